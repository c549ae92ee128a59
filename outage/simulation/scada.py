"""The field's SCADA for the simulation: it takes switching orders' commands and, after a
delay, reports the device operated, as a real RTU would.

The server's SCADA adapter (`OUTAGE_SCADA_COMMAND_URL`) points at this stand-in; each
command it takes is answered by a SCADA event posted back to the server's public API
(`POST /api/v1/scada/events`, with a key of the `scada` scope), which completes the step.
A command sent again (same `command_id`) is answered once.
"""

import json
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from outage import clock
from outage.clock import Clock
from outage.loopback import LoopbackServer

SCADA_EVENTS = "/api/v1/scada/events"

Report = Callable[[dict[str, Any]], None]
"""Posts one SCADA event."""


def poster(base_url: str, scada_key: str, *, timeout_s: float = 10.0) -> Report:
    """Posts events to a running server with a SCADA key."""

    def post(event: dict[str, Any]) -> None:
        httpx.post(
            base_url.rstrip("/") + SCADA_EVENTS,
            json=event,
            headers={"X-API-Key": scada_key},
            timeout=timeout_s,
        ).raise_for_status()

    return post


class ScadaField(LoopbackServer):
    """The stand-in on a loopback port, served from a background thread."""

    def __init__(
        self,
        report: Report,
        *,
        delay_s: float = 2.0,
        host: str = "127.0.0.1",
        port: int = 0,
        dates: Clock | None = None,
    ) -> None:
        self.delay_s = delay_s
        self.dates = dates or clock.current()
        """Dates the device's reports: the server's clock."""
        self.commands: list[dict[str, Any]] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        field = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    command = json.loads(raw)
                    accepted = field._take(command)
                except (ValueError, KeyError, TypeError):
                    accepted = None
                status = HTTPStatus.BAD_REQUEST if accepted is None else HTTPStatus.ACCEPTED
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo's terminal shows the storm's summary."""

        self._report = report
        super().__init__(ThreadingHTTPServer((host, port), Handler), name="scada-field")

    def _take(self, command: dict[str, Any]) -> bool:
        """Schedule the device's report; False for a command already taken."""
        event = {"asset_ref": str(command["asset_ref"]), "state": str(command["state"])}
        if event["state"] not in ("open", "closed"):
            raise ValueError(event["state"])
        key = str(command.get("command_id") or json.dumps(event))
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            self.commands.append(command)
        timer = threading.Timer(self.delay_s, self._operated, args=(event,))
        timer.daemon = True
        timer.start()
        return True

    def _operated(self, event: dict[str, Any]) -> None:
        self._report({**event, "occurred_at": self.dates.now().isoformat()})
