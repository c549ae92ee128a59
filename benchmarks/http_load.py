"""A load generator that costs the server's cores little: keep-alive HTTP/1.1 connections
over asyncio streams on uvloop, answers parsed with httptools (uvicorn's parser).

httpx's pure-Python stack costs about 1.8 ms of CPU a request: on a 2-core machine
shared with the server, a benchmark driving it would mostly measure itself. Requests are
built as bytes before the clock starts, and the clients run in a process of their own
(`in_own_process`), so they never share the server's interpreter.
"""

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import ParamSpec, TypeVar

import httptools
import httpx
import uvloop

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Load:
    requests: int
    errors: int
    """Answers with another status than expected, or without a body."""
    seconds: float
    latencies_s: list[float]
    cpu_s: float
    """The load generator's own CPU time over the run."""

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def request(method: str, base_url: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    """One HTTP/1.1 request as it goes on the wire; `headers` by their names with `_` for `-`."""
    url = httpx.URL(base_url)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {url.host}:{url.port or 80}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Answer:
    """Callbacks of httptools' parser for one response."""

    def __init__(self) -> None:
        self.complete = False
        self.body_bytes = 0

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)

    def on_message_complete(self) -> None:
        self.complete = True


class Connection:
    """One keep-alive connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, base_url: str) -> "Connection":
        url = httpx.URL(base_url)
        return cls(*await asyncio.open_connection(url.host, url.port or 80))

    async def exchange(self, raw: bytes, expected: int) -> bool:
        """Send `raw`, read its whole answer; whether it had the expected status and a body."""
        answer = _Answer()
        parser = httptools.HttpResponseParser(answer)
        self.writer.write(raw)
        while not answer.complete:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            parser.feed_data(data)
        return parser.get_status_code() == expected and answer.body_bytes > 0

    def close(self) -> None:
        self.writer.close()


@dataclass
class _Tally:
    started: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


async def _drive(
    base_url: str, connections: int, client: Callable[[Connection, _Tally], Awaitable[None]]
) -> Load:
    """`client` on each of `connections` keep-alive connections at once, all tallied."""
    opened = [await Connection.open(base_url) for _ in range(connections)]
    tally = _Tally(time.perf_counter())
    cpu = time.process_time()
    try:
        await asyncio.gather(*(client(connection, tally) for connection in opened))
    finally:
        for connection in opened:
            connection.close()
    seconds, cpu = time.perf_counter() - tally.started, time.process_time() - cpu
    return Load(len(tally.latencies), tally.errors, seconds, tally.latencies, cpu)


async def _closed_loop(
    base_url: str, requests: Sequence[bytes], expected: int, concurrency: int, seconds: float
) -> Load:
    pending = itertools.cycle(requests) if seconds < float("inf") else iter(requests)

    async def client(connection: Connection, tally: _Tally) -> None:
        for raw in pending:
            asked = time.perf_counter()
            tally.errors += not await connection.exchange(raw, expected)
            done = time.perf_counter()
            tally.latencies.append(done - asked)
            if done >= tally.started + seconds:
                return

    return await _drive(base_url, concurrency, client)


def closed_loop(
    base_url: str,
    requests: Sequence[bytes],
    *,
    expected: int,
    concurrency: int,
    seconds: float = float("inf"),
) -> Load:
    """As many requests a second as the server answers: each of `concurrency` connections
    sends the next request as soon as it has the last one's answer. Each request once; with
    `seconds`, over and over until they have passed."""
    return uvloop.run(_closed_loop(base_url, requests, expected, concurrency, seconds))


async def _paced(
    base_url: str, requests: Sequence[bytes], expected: int, rate: float, connections: int
) -> Load:
    turns = itertools.count()

    async def client(connection: Connection, tally: _Tally) -> None:
        for turn in turns:
            if turn >= len(requests):
                return
            due = tally.started + turn / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tally.errors += not await connection.exchange(requests[turn], expected)
            tally.latencies.append(time.perf_counter() - due)

    return await _drive(base_url, connections, client)


def paced(
    base_url: str, requests: Sequence[bytes], *, expected: int, rate: float, connections: int
) -> Load:
    """Request i is due `i / rate` seconds after the start, whatever the answers before it;
    its latency counts from when it was due, so a server falling behind shows in the
    percentiles (no coordinated omission) as long as a connection is free to send."""
    return uvloop.run(_paced(base_url, requests, expected, rate, connections))


def in_own_process(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`work(*args, **kwargs)` in a fresh process: a load generator must not share the
    interpreter (and its lock) of the code it measures."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(work, *args, **kwargs).result()
