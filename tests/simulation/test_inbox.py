"""The page of what the customers' phones received."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from outage.clock import Clock
from outage.notifications.events import delivery_key
from outage.notifications.sink import Received
from outage.outbox.enums import EventKind
from outage.simulation.inbox import InboxPage

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
EPOCH = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)


def _key(customer: int, kind: EventKind) -> str:
    return delivery_key(customer_id=customer, kind=kind, incident_id=1, version=1)


MESSAGES = [
    Received(
        _key(1, EventKind.OUTAGE_DETECTED),
        EPOCH,
        {"to": "+84900000001", "message": "Power is out"},
    ),
    Received(
        _key(2, EventKind.RESTORED),
        EPOCH + timedelta(minutes=1),
        {"to": "+84900000002", "message": "<b>Power is back</b>"},
    ),
    Received(
        _key(1, EventKind.RESTORED),
        EPOCH + timedelta(minutes=2),
        {"to": "+84900000001", "message": "Your power is back"},
    ),
]


@pytest.fixture
def page() -> Iterator[str]:
    with InboxPage(lambda: MESSAGES, zone=HANOI, dates=Clock(EPOCH, 30)) as running:
        yield running.url


def test_the_page_lists_the_messages_newest_first(page: str) -> None:
    body = httpx.get(page, timeout=5).text
    assert (
        body.index("Your power is back") < body.index("Power is back") < body.index("Power is out")
    )


def test_the_page_escapes_the_messages(page: str) -> None:
    body = httpx.get(page, timeout=5).text
    assert "&lt;b&gt;Power is back&lt;/b&gt;" in body
    assert "<b>Power" not in body


def test_a_message_shows_when_it_came_in_local_time_on_the_demo_clock(page: str) -> None:
    found = httpx.get(page + "messages.json", timeout=5).json()
    assert found[0]["at"] == "2026-07-01T09:00:00+07:00"  # two wall minutes: an hour at x30


def test_a_message_shows_its_kind(page: str) -> None:
    kinds = [m["kind"] for m in httpx.get(page + "messages.json", timeout=5).json()]
    assert kinds == ["restored", "restored", "outage_detected"]


def test_the_page_filters_by_recipient(page: str) -> None:
    body = httpx.get(page, params={"to": "0002"}, timeout=5).text
    assert "Power is back" in body
    assert "Power is out" not in body and "Your power is back" not in body


def test_the_page_filters_by_kind(page: str) -> None:
    body = httpx.get(page, params={"kind": "restored"}, timeout=5).text
    assert "Power is back" in body and "Your power is back" in body
    assert "Power is out" not in body


def test_the_filters_combine(page: str) -> None:
    found = httpx.get(
        page + "messages.json", params={"to": "0001", "kind": "restored"}, timeout=5
    ).json()
    assert [m["message"] for m in found] == ["Your power is back"]


def test_the_page_counts_the_recipients_messages_per_kind(page: str) -> None:
    body = httpx.get(page, params={"to": "0001"}, timeout=5).text
    assert ">outage detected</a>: 1<" in body
    assert ">restored</a>: 1<" in body


def test_a_recipient_filter_is_escaped_back_into_the_form(page: str) -> None:
    body = httpx.get(page, params={"to": '"><script>'}, timeout=5).text
    assert "<script>" not in body
    assert "&quot;&gt;&lt;script&gt;" in body


def test_an_unknown_kind_is_refused_with_its_reason(page: str) -> None:
    answer = httpx.get(page, params={"kind": "nonsense"}, timeout=5)
    assert (answer.status_code, answer.text) == (400, "no such kind of message")
