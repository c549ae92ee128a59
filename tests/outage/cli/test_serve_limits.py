"""`outage serve --role api` under hostile bodies: each is refused quickly with a short
answer, `/health` keeps answering, and the worker stays small."""

import threading
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from benchmarks.harness import Server, running_server

MAX_RSS_BYTES = 400 * 1024 * 1024
ANSWER_WITHIN_S = 2.0


def _million_keys() -> Iterator[bytes]:
    """A 12 MB JSON object of a million keys, sent chunked (no Content-Length)."""
    yield b"{"
    for block in range(1000):
        yield b",".join(b'"k%07d":0' % (block * 1000 + i) for i in range(1000)) + b","
    yield b'"end":0}'


BODIES = {
    "chunked million keys": _million_keys,
    "30,000 nested arrays": lambda: b"[" * 30_000 + b"]" * 30_000,
    "large with Content-Length": lambda: b'{"address": "' + b"x" * 5_000_000 + b'"}',
}


@pytest.fixture(scope="module")
def server(grid_database: str) -> Iterator[Server]:
    with running_server(grid_database, workers=1, role="api") as running:
        yield running


class _Watch(threading.Thread):
    """Peak RSS of the server's processes and the slowest /health while the test runs."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.stop = threading.Event()
        self.peak_rss = 0
        self.slowest_health_s = 0.0
        self.health_failures = 0

    def run(self) -> None:
        root = psutil.Process(self.server.pid)
        while not self.stop.is_set():
            processes = [root, *root.children(recursive=True)]
            self.peak_rss = max(self.peak_rss, *(p.memory_info().rss for p in processes))
            started = time.monotonic()
            try:
                if httpx.get(f"{self.server.url}/health", timeout=5).status_code != 200:
                    self.health_failures += 1
            except httpx.HTTPError:
                self.health_failures += 1
            self.slowest_health_s = max(self.slowest_health_s, time.monotonic() - started)
            time.sleep(0.05)


def test_hostile_bodies_are_refused_quickly_and_small_while_health_answers(
    server: Server,
) -> None:
    watch = _Watch(server)
    watch.start()
    answers = {}
    try:
        for name, body in BODIES.items():
            started = time.monotonic()
            response = httpx.post(
                f"{server.url}/api/v1/reports",
                content=body(),
                headers={"Content-Type": "application/json"},
                timeout=30,
            )
            answers[name] = (
                response.status_code,
                len(response.content),
                time.monotonic() - started,
            )
    finally:
        watch.stop.set()
        watch.join(timeout=10)
    for name, (status, size, seconds) in answers.items():
        assert status in (413, 422), name
        assert size < 500, name
        assert seconds < ANSWER_WITHIN_S, name
    assert watch.health_failures == 0
    assert watch.slowest_health_s < ANSWER_WITHIN_S
    assert watch.peak_rss < MAX_RSS_BYTES
