"""Load test: N widget connections against one daphne process per core, over PostgreSQL + Redis.

    .venv/bin/python deploy/loadtest/run.py --connections 1000 5000 --rate 100 --duration 30

Starts the servers itself (ports 8101, 8102, ...), prepares a load-test tenant in its own database
(helpdesk_loadtest) and Redis database (13), runs widget_load.py in this process, and prints
one table row per N: connections, errors, customer→agent and ack round trips (p50/p99), server
memory per connection, and server and client CPU while sending. Only talks to 127.0.0.1.
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

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import widget_load  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def server_env(args) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": "loadtest-secret-key-not-for-production",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Everything comes from 127.0.0.1 here; the per-address limits are not under test.
        "RATE_IP_MESSAGES": "100000000/60",
        "RATE_CUSTOMER_MESSAGES": "100000/60",
        "RATE_IP_VISITOR_TOKENS": "100000000/60",
        "DATABASE_POOL_MAX": "20",
    }


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wait_for_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ensure_database(args) -> None:
    name = args.database_url.rsplit("/", 1)[1]
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if exists != "1":
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {name}"],
            check=True,
            capture_output=True,
        )


def prepare_data(env: dict, visitors: int, out: Path, *extra: str) -> dict:
    subprocess.run(
        [sys.executable, "deploy/loadtest/prepare.py", "--visitors", str(visitors),
         "--out", str(out), *extra],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    return json.loads(out.read_text())


def start_daphne(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port),
         "helpdesk.asgi:application"],
        cwd=ROOT, env=env,
    )  # fmt: skip


def stop_processes(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # Closing thousands of sockets can outlast a polite shutdown.
            process.kill()
            process.wait()


def one_run(args, connections: int) -> dict:
    env = server_env(args)
    data = prepare_data(env, connections, ROOT / "var" / f"loadtest-{connections}.json")
    subprocess.run(["redis-cli", "-u", args.redis_url, "FLUSHDB"], check=True, capture_output=True)
    ports = [args.base_port + i for i in range(args.processes)]
    servers = [start_daphne(port, env) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            wait_for_http(url)
        baseline = sum(rss_bytes(s.pid) for s in servers)
        measured: dict[str, float] = {}

        def on_connected() -> None:
            measured["rss"] = sum(rss_bytes(s.pid) for s in servers)
            measured["cpu"] = sum(cpu_seconds(s.pid) for s in servers)
            measured["at"] = time.monotonic()

        summary = asyncio.run(
            widget_load.run(
                urls=urls,
                data=data,
                connections=connections,
                rate=args.rate,
                duration=args.duration,
                on_connected=on_connected,
            )
        )
        cpu_used = sum(cpu_seconds(s.pid) for s in servers) - measured["cpu"]
        elapsed = time.monotonic() - measured["at"]
        summary.update(
            connections=connections,
            processes=args.processes,
            rate=args.rate,
            duration=args.duration,
            server_rss_mb_before=round(baseline / 2**20, 1),
            server_rss_mb_connected=round(measured["rss"] / 2**20, 1),
            kb_per_connection=round((measured["rss"] - baseline) / 1024 / max(1, connections), 1),
            server_cpu_percent_of_one_core=round(100 * cpu_used / elapsed, 1),
        )
        return summary
    finally:
        stop_processes(servers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--rate", type=float, default=100, help="messages per second, in all")
    parser.add_argument("--duration", type=float, default=30, help="seconds of sending")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--base-port", type=int, default=8101)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/helpdesk_loadtest"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    ensure_database(args)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=server_env(args), check=True,
    )  # fmt: skip
    out = ROOT / "var" / "loadtest-results.json"
    rows = []
    for connections in args.connections:
        rows.append(one_run(args, connections))
        out.write_text(json.dumps(rows, indent=2))
        print(json.dumps(rows[-1]), flush=True)
    header = (
        "| N | processes | connected | connect errors | error frames | sent | acked | "
        "agent missing | customer→agent p50 / p99 ms | ack p50 / p99 ms | KB per connection | "
        "server CPU (% of one core) | client CPU (% of one core) |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for r in rows:
        print(
            f"| {r['connections']} | {r['processes']} | {r['connected']} | {r['connect_errors']} "
            f"| {r['error_frames']} | {r['sent']} | {r['acked']} | {r['agent_missing']} "
            f"| {r['agent_p50_ms']} / {r['agent_p99_ms']} | {r['ack_p50_ms']} / {r['ack_p99_ms']} "
            f"| {r['kb_per_connection']} | {r['server_cpu_percent_of_one_core']} "
            f"| {r['client_cpu_percent_of_one_core']} |"
        )
    print(f"\nfull results: {out}")


if __name__ == "__main__":
    main()
