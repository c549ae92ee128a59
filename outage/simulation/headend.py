"""The AMI head-end for the simulation: it takes ping requests on the documented HTTP API
(docs/ami-headend.md) and, after a while, posts each meter's answer back to the server.

It knows which meters are off from the storm (`is_off`), answers each after a random
latency, lets a share of the answers be lost (the server's wait turns those into no
answer), and refuses what its limits do not take: a request over its batch size (413), or
more meters than its minute allows (429), or one without its bearer token, when it has
one (401). A request sent again (same `request_id`) is
taken and answered once.
"""

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from outage.clock import Clock
from outage.loopback import LoopbackServer

PING_ANSWERS = "/api/v1/ami/pings/answers"

Answer = Callable[[list[dict[str, str]]], None]
"""Posts a batch of answers."""


def poster(base_url: str, ami_key: str, *, timeout_s: float = 10.0) -> Answer:
    """Posts answers to a running server with a key of the AMI scope."""

    def post(answers: list[dict[str, str]]) -> None:
        httpx.post(
            base_url.rstrip("/") + PING_ANSWERS,
            json={"answers": answers},
            headers={"X-API-Key": ami_key},
            timeout=timeout_s,
        ).raise_for_status()

    return post


class SimulatedHeadEnd(LoopbackServer):
    """The stand-in on a loopback port, served from a background thread."""

    def __init__(
        self,
        answer: Answer,
        is_off: Callable[[str], bool] = lambda meter_id: False,
        *,
        latency_s: tuple[float, float] = (2.0, 60.0),
        loss: float = 0.02,
        max_batch: int = 500,
        max_per_minute: int = 2000,
        seed: int = 0,
        token: str | None = None,
        dates: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.latency_s = latency_s
        self.dates = dates or Clock()
        """The clock an answer is dated by: the storm's, in a demo."""
        self.loss = loss
        self.max_batch = max_batch
        self.max_per_minute = max_per_minute
        self.token = token
        """The bearer token a request must carry (None: any request is taken)."""
        self.requests: list[dict[str, Any]] = []
        self.planned = 0
        """Answers on their way (the lost ones never are)."""
        self.is_off = is_off
        """Whether a meter is without power now: the storm's, once it plays."""
        self._answer = answer
        self._random = random.Random(seed)
        self._taken: deque[float] = deque()
        """When each meter of the last minute was taken (monotonic seconds)."""
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        headend = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    if not headend._authorized(self.headers.get("Authorization")):
                        status = HTTPStatus.UNAUTHORIZED
                    else:
                        status = headend._take(self.path, json.loads(raw))
                except (ValueError, KeyError, TypeError):
                    status = HTTPStatus.BAD_REQUEST
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo's terminal shows the storm's summary."""

        super().__init__(ThreadingHTTPServer((host, port), Handler), name="ami-headend")

    def _authorized(self, authorization: str | None) -> bool:
        return self.token is None or authorization == f"Bearer {self.token}"

    def _take(self, path: str, request: dict[str, Any]) -> HTTPStatus:
        if path.rstrip("/") != "/pings":
            return HTTPStatus.NOT_FOUND
        request_id = str(request["request_id"])
        meters = [str(meter) for meter in request["meters"]]
        if len(meters) > self.max_batch:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        with self._lock:
            if request_id in self._seen:
                return HTTPStatus.ACCEPTED
            now = time.monotonic()
            while self._taken and self._taken[0] <= now - 60:
                self._taken.popleft()
            if len(self._taken) + len(meters) > self.max_per_minute:
                return HTTPStatus.TOO_MANY_REQUESTS
            self._taken.extend([now] * len(meters))
            self._seen.add(request_id)
            self.requests.append(request)
            plans = [(meter, self._random.uniform(*self.latency_s)) for meter in meters]
            plans = [plan for plan in plans if self._random.random() >= self.loss]
            self.planned += len(plans)
        due: dict[float, list[str]] = {}  # meters answering at one moment go in one batch
        for meter, latency in plans:
            due.setdefault(latency, []).append(meter)
        for latency, answering in due.items():
            timer = threading.Timer(latency, self._answered, args=(request_id, answering))
            timer.daemon = True
            timer.start()
        return HTTPStatus.ACCEPTED

    def _answered(self, request_id: str, meters: list[str]) -> None:
        at = self.dates.now().isoformat()
        self._answer(
            [
                {
                    "request_id": request_id,
                    "meter_id": meter,
                    "state": "off" if self.is_off(meter) else "on",
                    "answered_at": at,
                }
                for meter in meters
            ]
        )
