"""A page of what the customers' phones received, over the notification sink.

The demo points the SMS channel at the notifications' local gateway stand-in
(`outage.notifications.sink`), which keeps each message once; this page lists them, newest
first, so a user can read the notifications a storm sends. Everything on it is escaped:
message text is filled with customer data.
"""

import html
import json
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from outage.loopback import LoopbackServer

PAGE_SIZE = 300
"""Messages the page shows."""

Messages = Callable[[], list[dict[str, Any]]]
"""The payloads received so far, oldest first."""


def render(messages: list[dict[str, Any]]) -> str:
    rows = "".join(
        "<tr><td>{}</td><td>{}</td></tr>".format(
            html.escape(str(m.get("to", ""))),
            html.escape(str(m.get("message") or m.get("body") or json.dumps(m))),
        )
        for m in reversed(messages[-PAGE_SIZE:])
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="3">'
        "<title>Messages to customers</title>"
        "<style>body{font-family:sans-serif;margin:1em}td{padding:2px 8px;"
        "border-bottom:1px solid #ddd;vertical-align:top}</style></head><body>"
        f"<h1>Messages to customers ({len(messages)})</h1>"
        "<p>What the SMS gateway was given to send, newest first; the page refreshes "
        "itself.</p><table><tr><th>to</th><th>message</th></tr>"
        f"{rows}</table></body></html>"
    )


class InboxPage(LoopbackServer):
    """The page on a loopback port, served from a background thread."""

    def __init__(self, messages: Messages, host: str = "127.0.0.1", port: int = 0) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = messages()
                if self.path.startswith("/messages.json"):
                    body, kind = json.dumps(found, ensure_ascii=False), "application/json"
                else:
                    body, kind = render(found), "text/html; charset=utf-8"
                data = body.encode()
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo's terminal shows the storm's summary."""

        super().__init__(ThreadingHTTPServer((host, port), Handler), name="inbox-page")
