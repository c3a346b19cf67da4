"""Open N widget WebSocket connections, send messages at a fixed rate, and measure how long each
takes to reach the agents' consoles (customer → server → Redis → agent), plus the customer's ack.

An asyncio client rather than locust: one process holds thousands of sockets on a 2-core machine,
where locust's one-greenlet-per-user model runs out of CPU long before the server does.
Use through run.py, which starts the servers and prepares the data.
"""

import asyncio
import json
import random
import statistics
import time
from dataclasses import dataclass, field

import websockets


@dataclass
class Results:
    connected: int = 0
    connect_errors: int = 0
    error_frames: int = 0
    sent: int = 0
    acked: int = 0
    ack_ms: list[float] = field(default_factory=list)
    agent_ms: list[float] = field(default_factory=list)
    agent_received: int = 0

    def summary(self) -> dict:
        return {
            "connected": self.connected,
            "connect_errors": self.connect_errors,
            "error_frames": self.error_frames,
            "sent": self.sent,
            "acked": self.acked,
            "agent_received": self.agent_received,
            "ack_p50_ms": percentile(self.ack_ms, 50),
            "ack_p99_ms": percentile(self.ack_ms, 99),
            "agent_p50_ms": percentile(self.agent_ms, 50),
            "agent_p99_ms": percentile(self.agent_ms, 99),
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
            open_timeout=30,
            ping_interval=None,
        )
        hello = {"inbox": self.data["inbox"], "token": self.visitor["token"]}
        await self.ws.send(json.dumps({"type": "hello", "data": hello}))
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if frame["type"] == "welcome":
                return
            if frame["type"] == "error":
                raise RuntimeError(frame["data"]["code"])

    async def read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            if frame["type"] == "ack":
                sent_ns = self.pending.pop(frame["data"]["client_id"], None)
                if sent_ns is not None:
                    self.results.acked += 1
                    self.results.ack_ms.append((time.time_ns() - sent_ns) / 1e6)
            elif frame["type"] == "error":
                self.results.error_frames += 1

    async def send(self) -> None:
        self.counter += 1
        client_id = f"lt-{self.index}-{self.counter}"
        sent_ns = time.time_ns()
        self.pending[client_id] = sent_ns
        self.results.sent += 1
        await self.ws.send(
            json.dumps(
                {
                    "type": "message.send",
                    "conversation": self.visitor["conversation"],
                    "data": {"client_id": client_id, "text": f"lt {sent_ns}"},
                }
            )
        )


async def agent_reader(url: str, cookie: str, results: Results, since_ns: list[int]) -> None:
    async with websockets.connect(
        ws_url(url, "/ws/console/"),
        additional_headers={"Origin": url, "Cookie": cookie},
        max_queue=None,
        ping_interval=None,
    ) as ws:
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] != "conversation.updated":
                continue
            preview = (frame["data"].get("last_message") or {}).get("preview", "")
            if not preview.startswith("lt "):
                continue
            sent_ns = int(preview[3:])
            if sent_ns < since_ns[0]:
                continue
            results.agent_received += 1
            results.agent_ms.append((time.time_ns() - sent_ns) / 1e6)


async def run(
    *,
    urls: list[str],
    data: dict,
    connections: int,
    rate: float,
    duration: float,
    connect_concurrency: int = 200,
    on_connected=None,
) -> dict:
    results = Results()
    since_ns = [time.time_ns()]
    agents = [
        asyncio.ensure_future(agent_reader(urls[i % len(urls)], cookie, results, since_ns))
        for i, cookie in enumerate(data["agent_cookies"])
    ]
    customers = [
        Customer(i, urls[i % len(urls)], data["visitors"][i], data, results)
        for i in range(connections)
    ]
    gate = asyncio.Semaphore(connect_concurrency)

    async def connect(customer: Customer) -> None:
        async with gate:
            try:
                await customer.connect()
            except Exception:
                results.connect_errors += 1
                customer.ws = None
                return
            results.connected += 1

    started = time.monotonic()
    await asyncio.gather(*(connect(c) for c in customers))
    connect_seconds = time.monotonic() - started
    live = [c for c in customers if c.ws is not None]
    readers = [asyncio.ensure_future(c.read()) for c in live]
    if on_connected is not None:
        await asyncio.get_running_loop().run_in_executor(None, on_connected)

    await asyncio.sleep(1)  # let the presence announcements of the ramp drain
    since_ns[0] = time.time_ns()
    # The client shares the machine: if it is near one full core, the figures are its own lag.
    client_cpu_started, sending_started = time.process_time(), time.monotonic()
    interval = 1.0 / rate
    deadline = time.monotonic() + duration
    next_at = time.monotonic()
    while time.monotonic() < deadline and live:
        await random.choice(live).send()
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.sleep(3)  # stragglers
    client_cpu = (time.process_time() - client_cpu_started) / (time.monotonic() - sending_started)

    for task in readers + agents:
        task.cancel()
    await asyncio.gather(*(c.ws.close() for c in live), return_exceptions=True)
    summary = results.summary()
    summary["connect_seconds"] = round(connect_seconds, 1)
    summary["agents"] = len(agents)
    summary["client_cpu_percent_of_one_core"] = round(100 * client_cpu, 1)
    # Every agent gets every message; count what one agent should have seen.
    summary["agent_missing"] = results.sent * len(agents) - results.agent_received
    return summary
