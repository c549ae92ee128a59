"""What each chain seals of a row."""

from datetime import UTC, datetime
from typing import Any

from outage.care.enums import RequestState
from outage.ledger.chains import REQUEST_EVENTS, SENT_MESSAGES


def _request_event(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c.name: None for c in REQUEST_EVENTS.columns()}
    row.update(
        id=7,
        request_id=3,
        at=datetime(2026, 12, 7, tzinfo=UTC),
        actor="agent",
        to_state=RequestState.RECEIVED,
        note="call after 5pm",
    )
    row.update(values)
    return row


def test_a_column_left_null_is_not_in_the_seal_so_older_rows_keep_theirs() -> None:
    content, _, _ = REQUEST_EVENTS.split(_request_event())
    assert "kind" not in content and "from_state" not in content
    assert REQUEST_EVENTS.split(_request_event(kind="escalated"))[0]["kind"] == "escalated"


def test_a_note_is_personal_data_sealed_apart() -> None:
    content, private, erased = REQUEST_EVENTS.split(_request_event())
    assert "note" not in content and private == {"note": "call after 5pm"} and not erased
    assert REQUEST_EVENTS.split(_request_event(note=None))[2]


def test_a_messages_delivery_and_idempotency_key_are_left_out_of_its_seal() -> None:
    sealed = {c.name for c in SENT_MESSAGES.columns()}
    assert {"body", "sent_at", "channel"} <= sealed
    assert not {"status", "attempts", "reply", "delivery_key"} & sealed
