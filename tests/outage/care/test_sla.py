"""SLA arithmetic on its own: due times, standing against the target, age buckets."""

from datetime import UTC, datetime, timedelta

import pytest

from outage.care import sla
from outage.care.enums import RequestType, SlaStanding

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_due_time_is_the_target_in_calendar_hours_nights_and_weekends_included() -> None:
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    due = sla.due_at(friday_evening, timedelta(hours=48))
    assert due == datetime(2026, 3, 8, 18, 0, tzinfo=UTC)


def test_a_partial_setting_overrides_only_the_types_it_names() -> None:
    targets = {RequestType.METER_CHECK: timedelta(hours=6)}
    assert sla.target_of(targets, RequestType.METER_CHECK) == timedelta(hours=6)
    assert (
        sla.target_of(targets, RequestType.NEW_CONNECTION)
        == sla.DEFAULT_TARGETS[RequestType.NEW_CONNECTION]
    )


def test_a_setting_naming_no_request_type_is_refused() -> None:
    sla.check_targets({"meter_check": 6.0})
    with pytest.raises(ValueError, match="meter_chek"):
        sla.check_targets({"meter_check": 6.0, "meter_chek": 6.0})


def test_every_type_has_a_default_target() -> None:
    assert set(sla.DEFAULT_TARGETS) == set(RequestType)
    assert all(target > timedelta(0) for target in sla.DEFAULT_TARGETS.values())


@pytest.mark.parametrize(
    ("hours_later", "expected"),
    [
        (0, SlaStanding.ON_TRACK),
        (38, SlaStanding.ON_TRACK),
        (39, SlaStanding.AT_RISK),
        (48, SlaStanding.AT_RISK),
        (48.01, SlaStanding.BREACHED),
        (500, SlaStanding.BREACHED),
    ],
)
def test_an_open_request_is_at_risk_in_its_last_fifth_and_breached_past_due(
    hours_later: float, expected: SlaStanding
) -> None:
    due = sla.due_at(T0, timedelta(hours=48))
    now = T0 + timedelta(hours=hours_later)
    assert sla.standing(received_at=T0, due=due, now=now) is expected


def test_a_closed_request_met_or_missed_its_target_whatever_the_time_now() -> None:
    due = sla.due_at(T0, timedelta(hours=24))
    later = T0 + timedelta(days=30)
    on_time = sla.standing(received_at=T0, due=due, now=later, closed_at=due)
    late = sla.standing(received_at=T0, due=due, now=later, closed_at=due + timedelta(seconds=1))
    assert (on_time, late) == (SlaStanding.MET, SlaStanding.MISSED)


@pytest.mark.parametrize(
    ("age", "key"),
    [
        (timedelta(0), "under_1d"),
        (timedelta(hours=23, minutes=59), "under_1d"),
        (timedelta(days=1), "1_3d"),
        (timedelta(days=6, hours=23), "3_7d"),
        (timedelta(days=7), "7_30d"),
        (timedelta(days=30), "over_30d"),
        (timedelta(days=4000), "over_30d"),
    ],
)
def test_every_age_falls_in_exactly_one_bucket(age: timedelta, key: str) -> None:
    assert sla.age_bucket(age).key == key
    assert sum(1 for b in sla.AGE_BUCKETS if b.key == key) == 1


def test_the_age_histogram_lists_every_bucket_youngest_first() -> None:
    now = T0 + timedelta(days=40)
    received = [now - timedelta(hours=2), now - timedelta(days=2), now - timedelta(days=35)]
    histogram = sla.age_histogram(received, now)
    assert [bucket.key for bucket, _ in histogram] == [b.key for b in sla.AGE_BUCKETS]
    assert [n for _, n in histogram] == [1, 1, 0, 0, 1]


def test_compliance_is_the_share_met_and_undefined_without_closed_requests() -> None:
    assert sla.compliance(3, 4) == 0.75
    assert sla.compliance(0, 0) is None
