"""Open N widget WebSocket connections, send messages at a fixed rate, and measure how long each
takes to reach the agents' consoles (customer → server → Redis → agent), plus the customer's ack.

An asyncio client rather than locust: one process holds thousands of sockets on a 2-core machine,
where locust's one-greenlet-per-user model runs out of CPU long before the server does. The
customers live in child processes (one per 5,000 sockets by default: a process may not open
more than 20,000 files here, and one Python process is too slow to connect 10,000 sockets in
time); the agents' consoles and the clock that matters stay in this process.

Use through run.py, which starts the servers and prepares the data. ``run()`` is also what the
Node peer's driver calls (deploy/loadtest/peer/), so both are measured by the same client.
"""

import asyncio
import math
import multiprocessing
import random
import statistics
import time
from dataclasses import dataclass, field

import orjson
import websockets

# One child process per this many customers (at least one).
CUSTOMERS_PER_PROCESS = 5000
# Customers connecting at once, per child process.
CONNECT_CONCURRENCY = 200


@dataclass
class Results:
    connected: int = 0
    connect_errors: int = 0
    error_frames: int = 0
    resyncs: int = 0
    sent: int = 0
    acked: int = 0
    ack_ms: list[float] = field(default_factory=list)
    agent_ms: list[float] = field(default_factory=list)
    agent_sent_ns: list[int] = field(default_factory=list)
    connect_ms: list[float] = field(default_factory=list)
    agent_received: int = 0
    first_error: str | None = None
    cpu_seconds: float = 0.0

    def merge(self, other: dict) -> None:
        for name in ("connected", "connect_errors", "error_frames", "resyncs", "sent", "acked"):
            setattr(self, name, getattr(self, name) + other[name])
        self.ack_ms.extend(other["ack_ms"])
        self.connect_ms.extend(other["connect_ms"])
        self.cpu_seconds += other["cpu_seconds"]
        self.first_error = self.first_error or other["first_error"]

    def as_dict(self) -> dict:
        return {
            name: getattr(self, name)
            for name in ("connected", "connect_errors", "error_frames", "resyncs", "sent")
        } | {
            "acked": self.acked,
            "ack_ms": self.ack_ms,
            "connect_ms": self.connect_ms,
            "first_error": self.first_error,
            "cpu_seconds": self.cpu_seconds,
        }


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1], 2)


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://").replace("https://", "wss://") + path


class Customer:
    def __init__(self, index: int, url: str, visitor: dict, data: dict, results: Results):
        self.index = index
        self.url = url
        self.visitor = visitor
        self.data = data
        self.results = results
        self.ws = None
        self.pending: dict[str, int] = {}
        self.counter = 0

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            ws_url(self.url, "/ws/widget/"),
            additional_headers={"Origin": self.data["origin"]},
            open_timeout=60,
            ping_interval=None,
            # Browsers ask for it; servers here decline it (it costs tens of KB per socket).
            compression="deflate",
        )
        hello = {"inbox": self.data["inbox"], "token": self.visitor["token"]}
        await self.ws.send(orjson.dumps({"type": "hello", "data": hello}).decode())
        while True:
            frame = orjson.loads(await asyncio.wait_for(self.ws.recv(), 60))
            if frame["type"] == "welcome":
                return
            if frame["type"] == "error":
                raise RuntimeError(frame["data"]["code"])

    async def read(self) -> None:
        async for raw in self.ws:
            frame = orjson.loads(raw)
            kind = frame["type"]
            if kind == "ack":
                sent_ns = self.pending.pop(frame["data"]["client_id"], None)
                if sent_ns is not None:
                    self.results.acked += 1
                    self.results.ack_ms.append((time.time_ns() - sent_ns) / 1e6)
            elif kind == "error":
                self.results.error_frames += 1
                self.results.first_error = self.results.first_error or frame["data"]["code"]
            elif kind == "resync":
                self.results.resyncs += 1

    async def send(self) -> None:
        self.counter += 1
        client_id = f"lt-{self.index}-{self.counter}"
        sent_ns = time.time_ns()
        self.pending[client_id] = sent_ns
        self.results.sent += 1
        frame = {
            "type": "message.send",
            "conversation": self.visitor["conversation"],
            "data": {"client_id": client_id, "text": f"lt {sent_ns}"},
        }
        await self.ws.send(orjson.dumps(frame).decode())


@dataclass
class AgentView:
    results: Results
    since_ns: int = 0
    resyncs: int = 0


async def agent_reader(url: str, cookie: str, view: AgentView, ready: asyncio.Event) -> None:
    async with websockets.connect(
        ws_url(url, "/ws/console/"),
        additional_headers={"Origin": url, "Cookie": cookie},
        max_queue=None,
        ping_interval=None,
        compression=None,
    ) as ws:
        ready.set()
        async for raw in ws:
            frame = orjson.loads(raw)
            if frame["type"] == "resync":
                view.resyncs += 1
                continue
            if frame["type"] != "conversation.updated":
                continue
            preview = (frame["data"].get("last_message") or {}).get("preview", "")
            if not preview.startswith("lt "):
                continue
            sent_ns = int(preview[3:])
            if sent_ns < view.since_ns:
                continue
            view.results.agent_received += 1
            view.results.agent_ms.append((time.time_ns() - sent_ns) / 1e6)
            view.results.agent_sent_ns.append(sent_ns)


def _by_second(sent_ns: list[int], latencies: list[float], since_ns: int) -> list[list]:
    seconds: dict[int, list[float]] = {}
    for sent, latency in zip(sent_ns, latencies, strict=True):
        seconds.setdefault((sent - since_ns) // 1_000_000_000, []).append(latency)
    return [
        [second, percentile(values, 50), percentile(values, 99), round(max(values), 1)]
        for second, values in sorted(seconds.items())
    ]


# --- customers, in child processes ------------------------------------------------------------


def _customers_process(pipe, urls, data, indices, rate, duration) -> None:
    asyncio.run(_customers_main(pipe, urls, data, indices, rate, duration))


async def _customers_main(pipe, urls, data, indices, rate, duration) -> None:
    loop = asyncio.get_running_loop()
    results = Results()
    customers = [
        Customer(i, urls[i % len(urls)], data["visitors"][i], data, results) for i in indices
    ]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(customer: Customer) -> None:
        async with gate:
            try:
                began = time.monotonic()
                await customer.connect()
                results.connect_ms.append((time.monotonic() - began) * 1000)
            except Exception as error:
                results.connect_errors += 1
                results.first_error = results.first_error or repr(error)
                customer.ws = None
                return
            results.connected += 1

    await asyncio.gather(*(connect(c) for c in customers))
    live = [c for c in customers if c.ws is not None]
    readers = [asyncio.ensure_future(c.read()) for c in live]
    pipe.send(("connected", results.connected))

    command = await loop.run_in_executor(None, pipe.recv)  # ("send", idle seconds)
    await asyncio.sleep(command[1])
    pipe.send(("sending", None))
    await loop.run_in_executor(None, pipe.recv)  # "go"
    cpu_started = time.process_time()
    interval = 1.0 / rate if rate else math.inf
    deadline = time.monotonic() + duration
    next_at = time.monotonic()
    while rate and time.monotonic() < deadline and live:
        await random.choice(live).send()
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    # Stragglers: up to 10 s for the last acks.
    stop = time.monotonic() + 10
    while any(c.pending for c in live) and time.monotonic() < stop:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    results.cpu_seconds = time.process_time() - cpu_started
    pipe.send(("results", results.as_dict()))
    await loop.run_in_executor(None, pipe.recv)  # "close"
    for task in readers:
        task.cancel()
    await asyncio.gather(*(c.ws.close() for c in live), return_exceptions=True)


async def run(
    *,
    urls: list[str],
    data: dict,
    connections: int,
    rate: float,
    duration: float,
    on_connected=None,
    idle: float = 0.0,
    on_idle_done=None,
    client_processes: int | None = None,
) -> dict:
    """Connect ``connections`` customers and two agents, stay ``idle`` seconds, then send
    ``rate`` messages a second for ``duration`` seconds; the figures as a dict."""
    loop = asyncio.get_running_loop()
    results = Results()
    view = AgentView(results)
    agents_ready = [asyncio.Event() for _ in data["agent_cookies"]]
    agents = [
        asyncio.ensure_future(agent_reader(urls[i % len(urls)], cookie, view, agents_ready[i]))
        for i, cookie in enumerate(data["agent_cookies"])
    ]
    await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in agents_ready)), 30)

    processes = client_processes or max(1, math.ceil(connections / CUSTOMERS_PER_PROCESS))
    context = multiprocessing.get_context("spawn")
    children = []
    started = time.monotonic()
    for n in range(processes):
        ours, theirs = context.Pipe()
        indices = list(range(n, connections, processes))
        process = context.Process(
            target=_customers_process,
            args=(theirs, urls, data, indices, rate / processes, duration),
            daemon=True,
        )
        process.start()
        children.append((process, ours))

    async def receive(pipe):
        return await loop.run_in_executor(None, pipe.recv)

    await asyncio.gather(*(receive(pipe) for _, pipe in children))
    connect_seconds = time.monotonic() - started
    if on_connected is not None:
        await loop.run_in_executor(None, on_connected)
    for _, pipe in children:
        pipe.send(("send", idle))
    await asyncio.gather(*(receive(pipe) for _, pipe in children))
    if on_idle_done is not None:
        await loop.run_in_executor(None, on_idle_done)

    await asyncio.sleep(1)  # let the announcements of the ramp drain
    view.since_ns = time.time_ns()
    sending_started = time.monotonic()
    for _, pipe in children:
        pipe.send("go")
    reports = await asyncio.gather(*(receive(pipe) for _, pipe in children))
    await asyncio.sleep(0.5)  # agent stragglers
    sending_seconds = time.monotonic() - sending_started
    for _, report in reports:
        results.merge(report)
    for _, pipe in children:
        pipe.send("close")
    for process, _ in children:
        await loop.run_in_executor(None, process.join, 30)
    for task in agents:
        task.cancel()
    await asyncio.gather(*agents, return_exceptions=True)

    # Every agent gets every message; count what one agent should have seen.
    return {
        "connections": connections,
        "connected": results.connected,
        "connect_errors": results.connect_errors,
        "connect_seconds": round(connect_seconds, 1),
        "connect_p50_ms": percentile(results.connect_ms, 50),
        "connect_p99_ms": percentile(results.connect_ms, 99),
        "error_frames": results.error_frames,
        "first_error": results.first_error,
        "resyncs": results.resyncs + view.resyncs,
        "sent": results.sent,
        "acked": results.acked,
        "agents": len(agents),
        "agent_received": results.agent_received,
        "agent_missing": results.sent * len(agents) - results.agent_received,
        "ack_p50_ms": percentile(results.ack_ms, 50),
        "ack_p99_ms": percentile(results.ack_ms, 99),
        "agent_p50_ms": percentile(results.agent_ms, 50),
        "agent_p99_ms": percentile(results.agent_ms, 99),
        "client_processes": processes,
        # Per second of sending: p50, p99 and max customer→agent ms (where the tail comes from).
        "agent_ms_by_second": _by_second(results.agent_sent_ns, results.agent_ms, view.since_ns),
        # The client shares the machine: near a full core per process, figures are its own lag.
        "client_cpu_percent_of_one_core": round(100 * results.cpu_seconds / sending_seconds, 1),
        "sending_seconds": round(sending_seconds, 1),
    }
