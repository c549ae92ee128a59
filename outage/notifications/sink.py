"""A local stand-in for an SMS or webhook gateway and for Zalo's Official Account API, for
tests, benchmarks and demos.

It accepts what apprise's `json://` and `form://` plugins post, keeps each message once
per `Idempotency-Key` (as real SMS APIs do), counts repeats, and can be told to fail:
the next N requests, or for a while. On Zalo's path (`ZALO_SEND_PATH`) it answers as the
OA API does: `{"error": 0, ...}` for a message sent with the right `access_token`
header (`ZALO_TOKEN`), an error code otherwise, or when told to fail; it keeps the
message as `{"channel": "zalo", "to": <user id>, "message": <text>}`. It notes when each
message came (`inbox`), by the wall clock, as a gateway does.
"""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from outage.loopback import LoopbackServer
from outage.notifications.channels import IDEMPOTENCY_HEADER, ZALO_SEND_PATH

ZALO_TOKEN = "local-zalo-access-token"
"""The access token the stand-in's Zalo API takes."""

ZALO_BAD_TOKEN = -216
ZALO_FAILED = -32
"""Zalo's error codes the stand-in answers with: an invalid access token, a failed send."""


@dataclass(frozen=True)
class Received:
    """A message the stand-in kept: its idempotency key (the delivery key), when it came
    (the wall clock's time) and what it said."""

    key: str
    at: datetime
    payload: dict[str, Any]


@dataclass
class SinkState:
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Idempotency key -> the payload first received with it."""
    arrived: dict[str, datetime] = field(default_factory=dict)
    """Idempotency key -> when its payload came."""
    repeats: int = 0
    """Requests whose key was seen before: dropped, as a real gateway would."""
    refused: int = 0
    fail_next: int = 0
    fail_until: float = 0.0
    """time.monotonic() before which every request fails."""
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, key: str | None, payload: dict[str, Any]) -> None:
        """Keep a message once per key (a repeat is counted and dropped); under the lock."""
        key = key or f"anonymous-{len(self.messages)}"
        if key in self.messages:
            self.repeats += 1
        else:
            self.messages[key] = payload
            self.arrived[key] = datetime.now(UTC)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a benchmark posts thousands."""

    def _answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            figures = {
                "messages": len(state.messages),
                "repeats": state.repeats,
                "refused": state.refused,
            }
        self._answer(200, json.dumps(figures).encode())

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self.server.state
        if state.delay_s:
            time.sleep(state.delay_s)
        if self.path == ZALO_SEND_PATH:
            self._zalo(raw)
            return
        with state.lock:
            if state.fail_next > 0 or time.monotonic() < state.fail_until:
                state.fail_next = max(0, state.fail_next - 1)
                state.refused += 1
                failing = True
            else:
                failing = False
                payload = _payload(self.headers.get("Content-Type", ""), raw)
                state.keep(self.headers.get(IDEMPOTENCY_HEADER), payload)
        self._answer(503 if failing else 200, b'{"error": "busy"}' if failing else b"{}")

    def _zalo(self, raw: bytes) -> None:
        state = self.server.state
        with state.lock:
            if self.headers.get("access_token") != ZALO_TOKEN:
                state.refused += 1
                error, reason = ZALO_BAD_TOKEN, "Access token is invalid"
            elif state.fail_next > 0 or time.monotonic() < state.fail_until:
                state.fail_next = max(0, state.fail_next - 1)
                state.refused += 1
                error, reason = ZALO_FAILED, "The stand-in was told to fail"
            else:
                error, reason = 0, "Success"
                sent = json.loads(raw or b"{}")
                payload = {
                    "channel": "zalo",
                    "to": sent["recipient"]["user_id"],
                    "message": sent["message"]["text"],
                }
                state.keep(self.headers.get(IDEMPOTENCY_HEADER), payload)
        answer: dict[str, Any] = {"error": error, "message": reason}
        if not error:
            answer["data"] = {"message_id": f"stand-in-{len(state.messages)}"}
        self._answer(200, json.dumps(answer).encode())


def _payload(content_type: str, raw: bytes) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        loaded: dict[str, Any] = json.loads(raw or b"{}")
        return loaded
    return dict(parse_qsl(raw.decode()))


class _Server(ThreadingHTTPServer):
    request_queue_size = 256

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = SinkState()


@dataclass(frozen=True)
class HttpSink:
    state: SinkState
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def apprise_url(self, path: str = "sms") -> str:
        """The `json://` URL apprise posts to this sink with."""
        return f"json://127.0.0.1:{self.port}/{path}"

    def fail(self, *, requests: int = 0, seconds: float = 0.0) -> None:
        with self.state.lock:
            self.state.fail_next = requests
            self.state.fail_until = time.monotonic() + seconds if seconds else 0.0

    def received(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            return dict(self.state.messages)

    def inbox(self) -> list[Received]:
        """Every message kept, oldest first, with its key and when it came."""
        with self.state.lock:
            return [
                Received(key, self.state.arrived[key], payload)
                for key, payload in self.state.messages.items()
            ]


@contextmanager
def running_sink() -> Iterator[HttpSink]:
    """The sink on a free loopback port, in a thread, for the duration of the block."""
    server = _Server()
    with LoopbackServer(server, name="http-sink") as serving:
        yield HttpSink(server.state, serving.port)
