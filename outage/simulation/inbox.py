"""A page of what the customers' phones received, over the notification sink.

The demo points the SMS channel and Zalo's API at the notifications' local gateway
stand-in (`outage.notifications.sink`), which keeps each message once with the time it
came; this page lists them, newest first, so a user can read the notifications a storm
sends: when each came (in the utility's local time, on the demo's clock), to whom, which
kind of message it is (read from its delivery key, which names it) and what it said. A
small form filters by recipient and kind (query parameters `to` and `kind`), and the
page counts the messages of each kind. Everything on it is escaped: message text is
filled with customer data.
"""

import html
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from outage.clock import Clock
from outage.loopback import LoopbackServer
from outage.notifications.events import kind_of_key
from outage.notifications.sink import Received
from outage.outbox.enums import EventKind

PAGE_SIZE = 300
"""Messages the page shows."""
MAX_RECIPIENT = 100
"""The longest recipient filter taken."""

Messages = Callable[[], list[Received]]
"""The messages received so far, oldest first."""


class BadFilter(ValueError):
    """A filter the page cannot apply: answered 400 with the reason."""


@dataclass(frozen=True)
class Filters:
    to: str = ""
    """Part of the recipient (a phone's last digits, a Zalo user id); empty: everyone."""
    kind: EventKind | None = None

    @classmethod
    def of(cls, query: str) -> "Filters":
        """From a URL's query string; BadFilter for an unknown kind or an overlong recipient."""
        asked = parse_qs(query)
        to = (asked.get("to") or [""])[0].strip()
        if len(to) > MAX_RECIPIENT:
            raise BadFilter(f"the recipient filter is longer than {MAX_RECIPIENT} characters")
        kind = (asked.get("kind") or [""])[0]
        if kind and kind not in frozenset(EventKind):
            raise BadFilter("no such kind of message")
        return cls(to, EventKind(kind) if kind else None)

    def query(self, kind: EventKind | None) -> str:
        """This filter's query with another kind."""
        values = {"to": self.to} if self.to else {}
        if kind is not None:
            values["kind"] = kind.value
        return "?" + urlencode(values)


@dataclass(frozen=True)
class Entry:
    """One message as the page shows it."""

    at: datetime
    """In the page's zone, on its clock."""
    to: str
    channel: str
    kind: EventKind | None
    text: str


def entries(received: Sequence[Received], zone: tzinfo, dates: Clock) -> list[Entry]:
    """The messages, newest first, their times on the clock in the zone."""
    return [
        Entry(
            at=dates.at(r.at).astimezone(zone),
            to=str(r.payload.get("to", "")),
            channel=str(r.payload.get("channel") or "sms"),
            kind=kind_of_key(r.key),
            text=str(r.payload.get("message") or r.payload.get("body") or json.dumps(r.payload)),
        )
        for r in reversed(received)
    ]


def chosen(found: Sequence[Entry], filters: Filters) -> list[Entry]:
    """The entries the filters keep (the recipient's part matched case-blind)."""
    to = filters.to.casefold()
    return [
        e
        for e in found
        if to in e.to.casefold() and (filters.kind is None or e.kind is filters.kind)
    ]


def _label(kind: EventKind | None) -> str:
    return kind.value.replace("_", " ") if kind is not None else "other"


def _count_link(filters: Filters, kind: EventKind | None) -> str:
    """A kind's name, linking to its messages (messages of no known kind have no filter)."""
    label = html.escape(_label(kind))
    if kind is None:
        return label
    return f'<a href="{html.escape(filters.query(kind))}">{label}</a>'


def render(found: Sequence[Entry], filters: Filters, zone: tzinfo) -> str:
    """The page: the form, the counts per kind of the recipient's messages, the messages."""
    theirs = chosen(found, Filters(filters.to))
    shown = chosen(theirs, filters)
    counts = Counter(e.kind for e in theirs)
    options = "".join(
        '<option value="{}"{}>{}</option>'.format(
            kind.value, " selected" if kind is filters.kind else "", html.escape(_label(kind))
        )
        for kind in EventKind
    )
    tally = "".join(
        f"<li>{_count_link(filters, kind)}: {n}</li>"
        for kind, n in sorted(counts.items(), key=lambda item: _label(item[0]))
    )
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(e.at.strftime("%Y-%m-%d %H:%M:%S")),
            html.escape(e.to),
            html.escape(e.channel),
            html.escape(_label(e.kind)),
            html.escape(e.text),
        )
        for e in shown[:PAGE_SIZE]
    )
    zone_name = html.escape(str(zone))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="5">'
        "<title>Messages to customers</title>"
        "<style>body{font-family:sans-serif;margin:1em}td{padding:2px 8px;"
        "border-bottom:1px solid #ddd;vertical-align:top}td:first-child{white-space:nowrap}"
        "</style></head><body>"
        f"<h1>Messages to customers ({len(shown)} of {len(found)})</h1>"
        "<p>What the gateways were given to send, newest first, at the time each came "
        f"({zone_name}, on the demo's clock); the page refreshes itself.</p>"
        '<form method="get"><label>Recipient <input name="to" value="'
        f'{html.escape(filters.to)}" maxlength="{MAX_RECIPIENT}"></label> '
        '<label>Kind <select name="kind"><option value="">any</option>'
        f'{options}</select></label> <button type="submit">Filter</button> '
        '<a href="?">all messages</a></form>'
        f"<ul>{tally}</ul>"
        "<table><tr><th>time</th><th>to</th><th>channel</th><th>kind</th><th>message</th></tr>"
        f"{rows}</table></body></html>"
    )


def as_json(found: Sequence[Entry]) -> str:
    return json.dumps(
        [
            {
                "at": e.at.isoformat(),
                "to": e.to,
                "channel": e.channel,
                "kind": e.kind.value if e.kind is not None else None,
                "message": e.text,
            }
            for e in found
        ],
        ensure_ascii=False,
    )


class InboxPage(LoopbackServer):
    """The page on a loopback port, served from a background thread; `messages.json` answers
    the same messages (filtered alike) as JSON."""

    def __init__(
        self,
        messages: Messages,
        *,
        zone: tzinfo,
        dates: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        clock = dates or Clock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                try:
                    filters = Filters.of(url.query)
                except BadFilter as exc:
                    self._answer(HTTPStatus.BAD_REQUEST, str(exc), "text/plain; charset=utf-8")
                    return
                found = entries(messages(), zone, clock)
                if url.path.endswith("/messages.json"):
                    self._answer(HTTPStatus.OK, as_json(chosen(found, filters)), "application/json")
                else:
                    self._answer(
                        HTTPStatus.OK, render(found, filters, zone), "text/html; charset=utf-8"
                    )

            def _answer(self, status: HTTPStatus, body: str, kind: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo's terminal shows the storm's summary."""

        super().__init__(ThreadingHTTPServer((host, port), Handler), name="inbox-page")
