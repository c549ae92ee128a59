"""The local gateway stand-in keeps each message once, with when it came."""

from datetime import UTC, datetime

import httpx

from outage.notifications.channels import IDEMPOTENCY_HEADER
from outage.notifications.sink import HttpSink


def test_the_sink_keeps_a_message_once_with_when_it_came(sink: HttpSink) -> None:
    before = datetime.now(UTC)
    for _ in range(2):
        httpx.post(
            f"{sink.url}/sms",
            json={"to": "+84900000001", "message": "Power is out"},
            headers={IDEMPOTENCY_HEADER: "i1:c1:outage_detected"},
            timeout=5,
        )
    [kept] = sink.inbox()
    assert (kept.key, kept.payload["message"]) == ("i1:c1:outage_detected", "Power is out")
    assert before <= kept.at <= datetime.now(UTC)
    assert sink.state.repeats == 1
