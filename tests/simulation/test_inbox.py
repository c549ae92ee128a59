"""The page of what the customers' phones received."""

import httpx

from outage.simulation.inbox import InboxPage

MESSAGES = [
    {"to": "+84900000001", "message": "Power is out"},
    {"to": "+84900000002", "message": "<b>Power is back</b>"},
]


def test_the_page_lists_the_messages_newest_first_escaped() -> None:
    with InboxPage(lambda: MESSAGES) as page:
        body = httpx.get(page.url, timeout=5).text
    assert body.index("Power is back") < body.index("Power is out")
    assert "&lt;b&gt;Power is back&lt;/b&gt;" in body


def test_the_messages_are_answered_as_json_too() -> None:
    with InboxPage(lambda: MESSAGES) as page:
        assert httpx.get(page.url + "messages.json", timeout=5).json() == MESSAGES
