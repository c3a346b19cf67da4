"""Load test: N widget sockets against the production topology, the Node peer beside it.

    .venv/bin/python deploy/loadtest/run.py --connections 3000 --rate 300 --duration 60 --peer

Starts what production runs (two web processes, daphne or ``--server uvicorn``; a Celery
worker; PostgreSQL; Redis) on its own database (helpdesk_loadtest) and Redis database (13),
prepares N visitors with open conversations and two agents, and drives them with
widget_load.py: N customers connect, stay ``--idle`` seconds, then send ``--rate`` messages a
second for ``--duration`` seconds, while both agents' consoles receive every message's
``conversation.updated``. With ``--peer``, the Node peer (deploy/loadtest/peer/) runs next, under
the same client, and the table shows both rows and their ratios.

Exits 1 when anything was lost: a socket that did not connect, a message not acknowledged, an
agent event that never arrived, an error frame, or a resync (the server telling a client it
dropped events). Results go to var/loadtest-results.json. Only talks to 127.0.0.1.
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PEER = HERE / "peer"
sys.path.insert(0, str(HERE))

import widget_load  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SERVERS = ("daphne", "uvicorn")


def server_env(args) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "SECRET_KEY": "loadtest-secret-key-not-for-production",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Everything comes from 127.0.0.1 here; the per-address limits are not under test.
        "RATE_IP_MESSAGES": "100000000/60",
        "RATE_CUSTOMER_MESSAGES": "100000/60",
        "RATE_IP_VISITOR_TOKENS": "100000000/60",
        # ai_bench.py's bots answer from the fake model server on this machine.
        "AI_ALLOWED_INTERNAL_HOSTS": "127.0.0.1",
    }


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def database_url_named(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def sql(url: str, statement: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


def ensure_database(url: str) -> None:
    """Create the database ``url`` names, from the server's maintenance database, if missing."""
    name = urlsplit(url).path.strip("/")
    maintenance = database_url_named(url, "postgres")
    if not sql(maintenance, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        sql(maintenance, f'CREATE DATABASE "{name}"')


def flush_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def prepare_data(env: dict, visitors: int, out: Path, *extra: str) -> dict:
    subprocess.run(
        [sys.executable, "deploy/loadtest/prepare.py", "--visitors", str(visitors),
         "--out", str(out), *extra],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    return json.loads(out.read_text())


def server_command(server: str, port: int) -> list[str]:
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port),
                "helpdesk.asgi:application"]  # fmt: skip
    return [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]


def start_server(server: str, port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(server_command(server, port), cwd=ROOT, env=env)


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=threads",
         "--concurrency=16", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
         "-n", "loadtest@%h"],
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


class Probe:
    """Memory and CPU of the server processes at the phases of a run."""

    def __init__(self, pids: list[int], connections: int):
        self.pids = pids
        self.connections = connections
        self.baseline = self.rss()
        self.marks: dict[str, tuple[float, float]] = {}
        self.mark("start")

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    def mark(self, name: str) -> None:
        self.marks[name] = (time.monotonic(), self.cpu())
        if name == "connected":
            self.connected_rss = self.rss()

    def cpu_percent(self, start: str, end: str) -> float | None:
        if start not in self.marks or end not in self.marks:
            return None
        (t0, c0), (t1, c1) = self.marks[start], self.marks[end]
        return round(100 * (c1 - c0) / max(t1 - t0, 1e-9), 1)

    def figures(self) -> dict:
        return {
            "server_rss_mb_before": round(self.baseline / 2**20, 1),
            "server_rss_mb_connected": round(self.connected_rss / 2**20, 1),
            "kb_per_connection": round(
                (self.connected_rss - self.baseline) / 1024 / max(1, self.connections), 1
            ),
            "server_connect_cpu_percent": self.cpu_percent("start", "connected"),
            "server_idle_cpu_percent": self.cpu_percent("connected", "idle_done"),
            "server_cpu_percent_of_one_core": self.cpu_percent("idle_done", "end"),
        }


def drive(urls: list[str], data: dict, pids: list[int], connections: int, args) -> dict:
    probe = Probe(pids, connections)
    summary = asyncio.run(
        widget_load.run(
            urls=urls,
            data=data,
            connections=connections,
            rate=args.rate,
            duration=args.duration,
            idle=args.idle,
            on_connected=lambda: probe.mark("connected"),
            on_idle_done=lambda: probe.mark("idle_done"),
            client_processes=args.client_processes,
        )
    )
    probe.mark("end")
    return {**summary, **probe.figures()}


def our_run(args, server: str, connections: int) -> dict:
    env = server_env(args)
    data = prepare_data(env, connections, ROOT / "var" / f"loadtest-{connections}.json")
    flush_redis(args.redis_url)
    ports = [args.base_port + i for i in range(args.processes)]
    servers = [start_server(server, port, env) for port in ports]
    worker = start_worker(env)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            wait_for_http(url)
        row = drive(urls, data, [s.pid for s in servers], connections, args)
    finally:
        stop_processes([*servers, worker])
    return {"system": f"helpdesk ({server})", **row}


def peer_run(args, connections: int) -> dict:
    if not (PEER / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=PEER, check=True)
    # The peer's own database and Redis database, on the servers the run uses.
    peer_database = database_url_named(args.database_url, "peer_bench")
    peer_redis = urlunsplit(urlsplit(args.redis_url)._replace(path="/14"))
    ensure_database(peer_database)
    sql(
        peer_database,
        "DROP TABLE IF EXISTS msg, conv;"
        " CREATE TABLE conv (id bigint PRIMARY KEY, last_seq int NOT NULL);"
        " CREATE TABLE msg (conv bigint NOT NULL, seq int NOT NULL, text text NOT NULL,"
        " PRIMARY KEY (conv, seq));",
    )
    flush_redis(peer_redis)
    ports = [args.base_port + 100 + i for i in range(args.processes)]
    node = shutil.which("node") or "node"
    servers = [
        subprocess.Popen(
            [node, "server.js"],
            cwd=PEER,
            env={
                **os.environ,
                "PORT": str(port),
                "PEER_PG": "1",
                "REDIS_URL": "redis://127.0.0.1:6379/14",
            },
        )  # fmt: skip
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    data = {
        "origin": "http://127.0.0.1",
        "inbox": "peer",
        "agent_cookies": ["a=1", "b=2"],
        "visitors": [{"token": "t", "conversation": None} for _ in range(connections)],
    }
    try:
        for url in urls:
            wait_for_http(url)
        row = drive(urls, data, [s.pid for s in servers], connections, args)
    finally:
        stop_processes(servers)
    return {"system": "Node peer", **row}


def lost(row: dict) -> list[str]:
    """What a run lost, in words; empty when nothing was."""
    problems = []
    if row["connected"] < row["connections"]:
        problems.append(
            f"{row['connections'] - row['connected']} sockets did not connect"
            f" (first error: {row['first_error']})"
        )
    if row["acked"] < row["sent"]:
        problems.append(f"{row['sent'] - row['acked']} of {row['sent']} messages not acked")
    if row["agent_missing"]:
        problems.append(f"{row['agent_missing']} agent events missing")
    if row["error_frames"]:
        problems.append(f"{row['error_frames']} error frames (first: {row['first_error']})")
    if row["resyncs"]:
        problems.append(f"{row['resyncs']} resyncs (the server dropped events)")
    return problems


COLUMNS = [
    ("system", "system"),
    ("connections", "N"),
    ("rate", "msg/s"),
    ("connect_seconds", "connect s"),
    ("acked", "acked"),
    ("agent_missing", "agent missing"),
    ("agent_p50_ms", "customer→agent p50 ms"),
    ("agent_p99_ms", "customer→agent p99 ms"),
    ("ack_p50_ms", "ack p50 ms"),
    ("ack_p99_ms", "ack p99 ms"),
    ("kb_per_connection", "KB/socket"),
    ("server_idle_cpu_percent", "idle CPU %"),
    ("server_cpu_percent_of_one_core", "server CPU %"),
    ("client_cpu_percent_of_one_core", "client CPU %"),
]
RATIOS = ["agent_p50_ms", "agent_p99_ms", "ack_p99_ms", "kb_per_connection",
          "server_cpu_percent_of_one_core"]  # fmt: skip


def table(rows: list[dict]) -> str:
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    peer = next((r for r in rows if r["system"] == "Node peer"), None)
    for row in rows:
        cells = [
            f"{row['acked']}/{row['sent']}" if key == "acked" else str(row.get(key, ""))
            for key, _ in COLUMNS
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if peer is not None and row is not peer:
            ratio_cells = []
            for key, _ in COLUMNS:
                if key == "system":
                    ratio_cells.append(f"{row['system']} ÷ peer")
                elif key in RATIOS and row.get(key) and peer.get(key):
                    ratio_cells.append(f"{row[key] / peer[key]:.1f}×")
                else:
                    ratio_cells.append("")
            lines.append("| " + " | ".join(ratio_cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, nargs="+", default=[3000])
    parser.add_argument("--rate", type=float, default=300, help="messages per second, in all")
    parser.add_argument("--duration", type=float, default=60, help="seconds of sending")
    parser.add_argument("--idle", type=float, default=0, help="seconds connected, before sending")
    parser.add_argument("--server", choices=SERVERS, nargs="+", default=["daphne"])
    parser.add_argument("--peer", action="store_true", help="run the Node peer too")
    parser.add_argument("--processes", type=int, default=2, help="web processes")
    parser.add_argument("--client-processes", type=int, default=None)
    parser.add_argument("--base-port", type=int, default=8101)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/helpdesk_loadtest"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    ensure_database(args.database_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=server_env(args), check=True,
    )  # fmt: skip
    out = ROOT / "var" / "loadtest-results.json"
    rows = []
    for connections in args.connections:
        runs = [(our_run, (args, server, connections)) for server in args.server]
        if args.peer:
            runs.append((peer_run, (args, connections)))
        for function, arguments in runs:
            row = function(*arguments)
            row.update(rate=args.rate, duration=args.duration, date=time.strftime("%Y-%m-%d"))
            rows.append(row)
            out.write_text(json.dumps(rows, indent=2))
            print(json.dumps(row), flush=True)
    print()
    print(table(rows))
    print(f"\nfull results: {out}")
    failed = False
    for row in rows:
        if row["system"] == "Node peer":
            continue
        for problem in lost(row):
            failed = True
            print(f"LOST ({row['system']}, N={row['connections']}): {problem}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
