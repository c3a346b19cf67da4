"""Relay overhead of the AI bot, measured from the customer's seat.

    .venv/bin/python deploy/loadtest/ai_bench.py --conversations 100 --spread 10 \
        --tokens-per-second 4

Starts the fake OpenAI-compatible server (its own process), a Celery worker and one daphne per
core over PostgreSQL + Redis, then has N customers send one message each, their arrivals spread
evenly over --spread seconds. Replies that last longer than the spread (40 tokens at 4 a second:
10 s) all stream at once; ``concurrent_streams_peak`` says how many did. For each reply it
records when the first ``message.delta`` reached the customer and how many deltas carried it.
Overhead = customer-seen time to first token − the fake server's configured time to first
token: everything we add (socket, database, job queue, worker, SDK, relay, Redis, socket again).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402
import websockets  # noqa: E402
from run import (  # noqa: E402
    ROOT,
    SERVERS,
    ensure_database,
    flush_redis,
    prepare_data,
    server_env,
    start_server,
    stop_processes,
    wait_for_http,
)
from widget_load import percentile, ws_url  # noqa: E402

REPLY = " ".join(f"token{n}" for n in range(40))
WARM_UP = 4


async def one_customer(
    url: str, data: dict, visitor: dict, start: asyncio.Event, delay: float
) -> dict:
    # Unique per customer, so the completion request it causes can be found at the LLM.
    question = f"Tell me about my order {visitor['conversation']}"
    async with websockets.connect(
        ws_url(url, "/ws/widget/"), additional_headers={"Origin": data["origin"]}
    ) as ws:
        hello = {"inbox": data["inbox"], "token": visitor["token"]}
        await ws.send(json.dumps({"type": "hello", "data": hello}))
        while json.loads(await ws.recv())["type"] != "welcome":
            pass
        await start.wait()
        # Arrivals spread evenly over the window, as customers do, rather than in one instant.
        await asyncio.sleep(delay)
        sent = time.monotonic()
        await ws.send(
            json.dumps(
                {
                    "type": "message.send",
                    "conversation": visitor["conversation"],
                    "data": {"client_id": "bench-1", "text": question},
                }
            )
        )
        first_delta = None
        deltas = 0
        text = ""
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if frame["type"] == "message.delta":
                deltas += 1
                text += frame["data"]["delta"]
                if first_delta is None:
                    first_delta = time.monotonic()
            elif frame["type"] == "message.updated" and frame["data"]["sender"] == "bot":
                return {
                    "question": question,
                    "sent": sent,
                    "first_delta": None if first_delta is None else first_delta - sent,
                    "deltas": deltas,
                    "complete": frame["data"]["state"] == "complete"
                    and frame["data"]["text"] == text,
                    "total": time.monotonic() - sent,
                }


async def run_customers(
    urls: list[str], data: dict, visitors: list[dict], spread: float
) -> list[dict]:
    start = asyncio.Event()
    step = spread / max(1, len(visitors))
    tasks = [
        asyncio.ensure_future(one_customer(urls[i % len(urls)], data, visitor, start, i * step))
        for i, visitor in enumerate(visitors)
    ]
    await asyncio.sleep(2)  # everyone connected and welcomed
    start.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--ttft", type=float, default=0.5)
    parser.add_argument("--tokens-per-second", type=float, default=20)
    parser.add_argument(
        "--spread", type=float, default=2.0, help="seconds over which the customers write"
    )
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--server", choices=SERVERS, default="daphne")
    parser.add_argument("--base-port", type=int, default=8121)
    parser.add_argument("--llm-port", type=int, default=8191)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/helpdesk_loadtest"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    env = server_env(args)
    ensure_database(args.database_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    flush_redis(args.redis_url)
    llm_url = f"http://127.0.0.1:{args.llm_port}"
    data = prepare_data(
        env,
        args.conversations + WARM_UP,
        ROOT / "var" / "ai-bench.json",
        "--bot-base-url",
        llm_url + "/v1",
    )
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fakes.llm_server",
                "--port",
                str(args.llm_port),
                "--ttft",
                str(args.ttft),
                "--tokens-per-second",
                str(args.tokens_per_second),
                "--reply",
                REPLY,
                "--max-recorded",
                "1000",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        ),
    ]
    # One worker process per core, like the web processes.
    processes += [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=threads",
             f"--concurrency={args.conversations + 8}", "--loglevel=WARNING",
             "--without-gossip", "--without-mingle", "-n", f"bench{n}@%h"],
            cwd=ROOT, env=env,
        )
        for n in range(args.processes)
    ]  # fmt: skip
    ports = [args.base_port + i for i in range(args.processes)]
    processes += [start_server(args.server, port, env) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            wait_for_http(url)
        time.sleep(3)  # the worker is up
        # A few replies first, so every process has made its connections and clients.
        asyncio.run(run_customers(urls, data, data["visitors"][-WARM_UP:], spread=0))
        results = asyncio.run(
            run_customers(urls, data, data["visitors"][: args.conversations], args.spread)
        )
        # When each completion request reached the LLM (CLOCK_MONOTONIC is machine-wide):
        # the send → job → worker part of the overhead, per customer.
        with urllib.request.urlopen(f"{llm_url}/_fake/requests", timeout=5) as answer:
            recorded = json.loads(answer.read())
        with urllib.request.urlopen(f"{llm_url}/_fake/stats", timeout=5) as answer:
            concurrent_streams_peak = json.loads(answer.read())["peak"]
    finally:
        stop_processes(processes)
    with psycopg.connect(args.database_url) as connection:
        # A reply that never finished: the customer saw a bot typing forever.
        stuck = connection.execute(
            "SELECT count(*) FROM conversations_message WHERE state = 'streaming'"
        ).fetchone()[0]

    good = [r for r in results if isinstance(r, dict) and r["first_delta"] is not None]
    overhead_ms = [(r["first_delta"] - args.ttft) * 1000 for r in good]
    deltas = sorted(r["deltas"] for r in good)
    summary = {
        "conversations": args.conversations,
        "answered": len(good),
        "complete_and_equal_to_deltas": sum(1 for r in good if r["complete"]),
        "errors": len(results) - len(good),
        "replies_left_streaming": stuck,
        "first_error": next((repr(r) for r in results if not isinstance(r, dict)), None),
        "configured_ttft_ms": args.ttft * 1000,
        "arrivals_spread_s": args.spread,
        "concurrent_streams_peak": concurrent_streams_peak,
        "overhead_p50_ms": percentile(overhead_ms, 50),
        "overhead_p99_ms": percentile(overhead_ms, 99),
        "reply_tokens": len(REPLY.split()),
        "publishes_per_reply_p50": percentile(deltas, 50),
        "publishes_per_reply_max": deltas[-1] if deltas else None,
        "reply_seconds_p50": percentile([r["total"] for r in good], 50),
    }
    sent_at = {r["question"]: r["sent"] for r in good}
    arrivals = []
    for request in recorded:
        if not request["path"].endswith("/chat/completions"):
            continue
        question = request["body"]["messages"][-1]["content"]
        if question in sent_at:
            arrivals.append((request["received_at"] - sent_at[question]) * 1000)
    summary["llm_requests"] = len(arrivals)
    summary["llm_request_after_send_p50_ms"] = percentile(arrivals, 50)
    summary["llm_request_after_send_p99_ms"] = percentile(arrivals, 99)
    (ROOT / "var" / "ai-bench-results.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
