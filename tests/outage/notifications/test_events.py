"""The pure delivery rules: keys, staleness, quiet hours, backoff."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from outage.incidents.lifecycle import IncidentStatus
from outage.notifications.enums import PlannedStatus
from outage.notifications.events import QuietHours, backoff, delivery_key, is_stale, kind_of_key
from outage.notifications.replies import reply_key
from outage.outbox.enums import EventKind

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_key_names_customer_subject_and_kind_once() -> None:
    key = delivery_key(customer_id=7, kind=EventKind.RESTORED, incident_id=3, version=99)
    assert key == "i3:c7:restored"


def test_an_etr_change_key_carries_its_version() -> None:
    first = delivery_key(customer_id=7, kind=EventKind.ETR_CHANGED, incident_id=3, version=1)
    second = delivery_key(customer_id=7, kind=EventKind.ETR_CHANGED, incident_id=3, version=2)
    assert first != second


@pytest.mark.parametrize("kind", [EventKind.OUTAGE_DETECTED, EventKind.ETR_CHANGED])
def test_a_key_tells_its_kind(kind: EventKind) -> None:
    key = delivery_key(customer_id=7, kind=kind, incident_id=3, version=2, contact="ab12")
    assert kind_of_key(key) is kind


def test_a_reply_key_tells_it_is_a_reply() -> None:
    assert kind_of_key(reply_key("zalo:msg-1")) is EventKind.REPLY


def test_a_key_of_another_form_has_no_kind() -> None:
    assert kind_of_key("anonymous-3") is None


def test_planned_keys_do_not_collide_with_incident_keys() -> None:
    planned = delivery_key(customer_id=7, kind=EventKind.PLANNED_NOTICE, planned_outage_id=3)
    assert planned.startswith("p3:")


@pytest.mark.parametrize(
    ("status", "stale"),
    [
        (IncidentStatus.ON_SITE, False),
        (IncidentStatus.RESTORED, True),
        (IncidentStatus.CANCELLED, True),
    ],
)
def test_outage_news_is_stale_once_the_outage_is_over(status: IncidentStatus, stale: bool) -> None:
    assert is_stale(EventKind.OUTAGE_DETECTED, incident_status=status) is stale


def test_a_restoration_is_never_stale() -> None:
    assert not is_stale(EventKind.RESTORED, incident_status=IncidentStatus.CLOSED)


def test_a_planned_notice_is_stale_once_the_work_is_cancelled() -> None:
    assert is_stale(EventKind.PLANNED_NOTICE, planned_status=PlannedStatus.CANCELLED)
    assert not is_stale(EventKind.PLANNED_CANCELLED, planned_status=PlannedStatus.CANCELLED)


def test_quiet_hours_across_midnight_release_at_their_end() -> None:
    quiet = QuietHours.parse("22:00-06:00")
    assert quiet is not None
    late = datetime(2026, 3, 1, 23, 30, tzinfo=HANOI).astimezone(UTC)
    released = quiet.release(late, HANOI)
    assert released.astimezone(HANOI) == datetime(2026, 3, 2, 6, 0, tzinfo=HANOI)


def test_outside_quiet_hours_a_message_goes_at_once() -> None:
    quiet = QuietHours(time(22), time(6))
    noon = datetime(2026, 3, 1, 12, 0, tzinfo=HANOI).astimezone(UTC)
    assert quiet.release(noon, HANOI) == noon


def test_an_empty_span_means_no_quiet_hours() -> None:
    assert QuietHours.parse("00:00-00:00") is None
    assert QuietHours.parse(None) is None


def test_backoff_doubles_up_to_its_cap() -> None:
    base, cap = timedelta(seconds=30), timedelta(seconds=100)
    waits = [backoff(n, base=base, cap=cap) for n in (1, 2, 3, 4)]
    assert waits == [timedelta(seconds=s) for s in (30, 60, 100, 100)]
