"""Reliability reports from incidents driven through the incidents service (rolled back)."""

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.grid.models import Device
from outage.incidents.changes import cancel, open_nested
from outage.notifications.enums import PlannedStatus
from outage.notifications.models import PlannedOutage
from outage.reliability import service
from outage.reliability.records import interruption_records

from .conftest import SERVED, act, on_site, outage, restore

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MARCH = (date(2025, 3, 1), date(2025, 3, 31))


def local(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


def march(
    session: Session, feeder: str | None = None, region: str | None = None
) -> service.ReliabilityReport:
    return service.reliability_report(
        session, start=MARCH[0], end=MARCH[1], feeder=feeder, region=region, zone=ZONE
    )


def test_partial_restoration_by_device_gives_each_customer_their_duration(
    session: Session,
) -> None:
    incident = outage(session, "BR-1", local(10, 8))
    on_site(session, incident)
    act(session, incident, "partial_restore", restored_device="SW-B", at=local(10, 8, 30))
    restore(session, incident, local(10, 9, 30))
    report = march(session, feeder="F1")
    # B1-B3 back after 30 minutes, A1-A4 after 90: 90 + 360 = 450 customer minutes
    figures = report.with_major_events
    assert report.customers_served == 7
    assert figures.saifi == pytest.approx(1.0)
    assert figures.saidi == pytest.approx(450 / 7)
    assert figures.caidi == pytest.approx(450 / 7)


def test_partial_restoration_by_count_keeps_the_customer_minutes_exact(
    session: Session,
) -> None:
    incident = outage(session, "FU-A", local(11, 8))
    on_site(session, incident)
    act(session, incident, "partial_restore", restored_customers=1, at=local(11, 8, 20))
    restore(session, incident, local(11, 9))
    figures = march(session).with_major_events
    # 1 x 20 + 3 x 60 = 200 customer minutes over the 10 customers of the system
    assert figures.saidi == pytest.approx(20.0)
    assert figures.saifi == pytest.approx(0.4)


def test_a_nested_outage_keeps_its_customers_out_once(session: Session) -> None:
    parent = outage(session, "BR-1", local(12, 8))
    nested = open_nested(
        session, parent, device_asset_ref="FU-A", confidence=1.0, customers_affected=4, reason="t"
    )
    restore(session, parent, local(12, 9))
    restore(session, nested, local(12, 11))
    figures = march(session).with_major_events
    # A1-A4 out 3 hours, B1-B3 one hour: 7 interruptions, 720 + 180 customer minutes
    assert figures.customer_interruptions == 7
    assert figures.customer_minutes == pytest.approx(900.0)
    assert figures.saidi == pytest.approx(90.0)


def test_a_momentary_outage_counts_in_maifi_e_only(session: Session) -> None:
    incident = outage(session, "BR-2", local(13, 8))
    restore(session, incident, local(13, 8, 3))
    figures = march(session, feeder="F2").with_major_events
    assert figures.maifi_e == pytest.approx(1.0)
    assert (figures.saifi, figures.saidi) == (0.0, 0.0)


def test_planned_interruptions_are_reported_apart(session: Session) -> None:
    incident = outage(session, "FU-B", local(14, 8), cause="Planned: fuse replacement")
    restore(session, incident, local(14, 12))
    report = march(session)
    assert report.planned.saifi == pytest.approx(0.3)
    assert report.planned.saidi == pytest.approx(3 * 240 / SERVED)
    assert report.with_major_events.customer_interruptions == 0


def test_cancelled_outages_and_hazards_interrupt_nobody(session: Session) -> None:
    cancelled = outage(session, "BR-1", local(15, 8))
    cancel(session, cancelled, reason="nothing found")
    figures = march(session).with_major_events
    assert figures.customer_interruptions == 0


def test_an_outage_still_going_on_counts_up_to_now(session: Session) -> None:
    started = datetime.now(UTC) - timedelta(hours=1)
    outage(session, "account:C2", started)
    today = started.astimezone(ZONE).date()
    report = service.reliability_report(
        session, start=today, end=today + timedelta(days=1), zone=ZONE
    )
    assert report.with_major_events.customer_interruptions == 1
    assert report.with_major_events.customer_minutes == pytest.approx(
        (report.as_of - started).total_seconds() / 60
    )


def test_a_setback_interrupts_the_restored_customers_again(session: Session) -> None:
    started = datetime.now(UTC) - timedelta(hours=3)
    incident = outage(session, "BR-1", started)
    on_site(session, incident)
    act(
        session,
        incident,
        "partial_restore",
        restored_device="SW-B",
        at=started + timedelta(hours=1),
    )
    act(session, incident, "on_site")
    records = interruption_records(
        session,
        start=started,
        end=datetime.now(UTC) + timedelta(hours=1),
        as_of=datetime.now(UTC) + timedelta(minutes=30),
    )
    b1 = sorted((r for r in records if r.customer == "B1"), key=lambda r: r.start)
    first, second = b1
    assert (first.start, first.end, first.ongoing) == (started, started + timedelta(hours=1), False)
    assert second.ongoing and second.start > first.end
    assert [r.ongoing for r in records if r.customer == "A1"] == [True]


def test_interruptions_belong_to_the_period_in_which_they_began(session: Session) -> None:
    incident = outage(session, "FU-A", local(28, 2, month=2))
    restore(session, incident, local(1, 2))
    assert march(session).with_major_events.customer_interruptions == 0
    february = service.reliability_report(
        session, start=date(2025, 2, 1), end=date(2025, 2, 28), zone=ZONE
    )
    assert february.with_major_events.customer_minutes == pytest.approx(4 * 24 * 60)


def test_a_feeder_is_found_by_its_head_breaker_and_a_region_by_its_substation(
    session: Session,
) -> None:
    incident = outage(session, "BR-2", local(16, 8))
    restore(session, incident, local(16, 9))
    by_breaker = march(session, feeder="BR-2")
    region = march(session, region="TBA Beta")
    other = march(session, region="TBA Alpha")
    assert by_breaker.feeder == "F2" and by_breaker.customers_served == 3
    assert by_breaker.with_major_events.saidi == pytest.approx(60.0)
    assert region.customers_served == 3 and region.with_major_events.saifi == pytest.approx(1.0)
    assert other.customers_served == 7 and other.with_major_events.saifi == 0.0


@pytest.mark.parametrize(
    "scope, reason",
    [
        ({"feeder": "F9"}, "no feeder"),
        ({"region": "TBA Gamma"}, "no region"),
        ({"feeder": "F1", "region": "TBA Alpha"}, "not both"),
    ],
)
def test_unknown_scopes_are_refused(session: Session, scope: dict[str, str], reason: str) -> None:
    with pytest.raises(service.UnknownScope, match=reason):
        march(session, **scope)


@pytest.mark.parametrize(
    "start, end, reason",
    [
        (date(2025, 3, 31), date(2025, 3, 1), "before it starts"),
        (date(2010, 1, 1), date(2025, 1, 1), "at most"),
        (date(2999, 1, 1), date(2999, 1, 2), "future"),
    ],
)
def test_bad_periods_are_refused(session: Session, start: date, end: date, reason: str) -> None:
    with pytest.raises(service.InvalidPeriod, match=reason):
        service.reliability_report(session, start=start, end=end, zone=ZONE)


HISTORY_MINUTES = {
    date(2021, 5, 3): 10.0,
    date(2022, 7, 9): 20.0,
    date(2023, 1, 15): 40.0,
    date(2024, 11, 20): 80.0,
}
"""One customer's interruptions in the five years before March 2025."""


def _with_history(session: Session) -> None:
    for day, minutes in HISTORY_MINUTES.items():
        start = datetime(day.year, day.month, day.day, 10, tzinfo=ZONE)
        restore(session, outage(session, "account:A1", start), start + timedelta(minutes=minutes))
    storm = outage(session, "BR-1", local(12, 6))
    restore(session, storm, local(12, 16))
    small = outage(session, "FU-A", local(20, 8))
    restore(session, small, local(20, 8, 30))


def test_major_event_days_follow_the_threshold_of_the_five_years_before(
    session: Session,
) -> None:
    _with_history(session)
    report = march(session)
    logs = np.log(np.array(list(HISTORY_MINUTES.values())) / SERVED)
    assert report.threshold is not None
    assert report.threshold.t_med == pytest.approx(
        math.exp(logs.mean() + 2.5 * logs.std(ddof=1)), rel=1e-9
    )
    # the storm: 7 customers x 600 minutes = 420 minutes of SAIDI that day
    assert report.major_event_days == [date(2025, 3, 12)]


def test_figures_without_major_events_leave_the_major_event_days_out(session: Session) -> None:
    _with_history(session)
    report = march(session)
    assert report.with_major_events.customer_minutes == pytest.approx(7 * 600 + 4 * 30)
    assert report.without_major_events.customer_minutes == pytest.approx(4 * 30)
    assert report.without_major_events.saifi == pytest.approx(0.4)


def test_without_history_there_are_no_major_event_days(session: Session) -> None:
    storm = outage(session, "BR-1", local(12, 6))
    restore(session, storm, local(12, 16))
    report = march(session)
    assert report.threshold is None and report.major_event_days == []
    assert report.without_major_events == report.with_major_events


def test_daily_saidi_has_every_day_and_marks_major_event_days(session: Session) -> None:
    _with_history(session)
    days = service.daily_saidi(session, *MARCH, zone=ZONE)
    assert [d.day for d in days] == [date(2025, 3, 1) + timedelta(days=i) for i in range(31)]
    by_day = {d.day: d for d in days}
    assert by_day[date(2025, 3, 12)].saidi == pytest.approx(420.0)
    assert by_day[date(2025, 3, 12)].major_event
    assert by_day[date(2025, 3, 20)].saifi == pytest.approx(0.4)
    assert not by_day[date(2025, 3, 20)].major_event
    assert sum(d.saidi for d in days) == pytest.approx(432.0)


def test_daily_saidi_of_a_feeder_counts_its_own_customers(session: Session) -> None:
    _with_history(session)
    by_day = {d.day: d for d in service.daily_saidi(session, *MARCH, "F1", zone=ZONE)}
    assert by_day[date(2025, 3, 12)].saidi == pytest.approx(600.0)
    assert by_day[date(2025, 3, 12)].major_event


def test_monthly_indices_split_the_period_by_calendar_month(session: Session) -> None:
    _with_history(session)
    months = service.monthly_indices(session, date(2025, 2, 15), date(2025, 4, 10), zone=ZONE)
    assert [m.month for m in months] == [date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)]
    february, march_, april = months
    assert february.with_major_events.customer_interruptions == 0
    assert march_.with_major_events.customer_interruptions == 11
    assert march_.without_major_events.customer_interruptions == 4
    assert april.with_major_events.saifi == 0.0


def test_monthly_indices_count_each_months_major_event_days(session: Session) -> None:
    _with_history(session)
    months = service.monthly_indices(session, date(2025, 2, 15), date(2025, 4, 10), zone=ZONE)
    assert [m.major_event_days for m in months] == [0, 1, 0]


def _planned_outage(
    session: Session, device: str, starts_at: datetime, ends_at: datetime, status: PlannedStatus
) -> None:
    """A planned outage as the notifications package stores one."""
    session.add(
        PlannedOutage(
            device_id=session.scalar(select(Device.id).where(Device.asset_ref == device)),
            starts_at=starts_at,
            ends_at=ends_at,
            reason="maintenance",
            status=status,
            revision=1,
            customers=3,
            created_by="planner",
        )
    )
    session.flush()


def test_planned_outages_count_as_planned_interruptions_for_their_window(
    session: Session,
) -> None:
    _planned_outage(session, "SW-B", local(18, 8), local(18, 11), PlannedStatus.DONE)
    _planned_outage(session, "FU-A", local(19, 8), local(19, 11), PlannedStatus.CANCELLED)
    report = march(session)
    assert report.planned.customer_interruptions == 3
    assert report.planned.customer_minutes == pytest.approx(3 * 180)
    assert report.with_major_events.customer_interruptions == 0


def test_a_planned_outage_recorded_as_an_incident_too_counts_once(session: Session) -> None:
    _planned_outage(session, "SW-B", local(18, 8), local(18, 11), PlannedStatus.DONE)
    incident = outage(session, "SW-B", local(18, 8, 5), cause="planned: switch repair")
    restore(session, incident, local(18, 11))
    assert march(session).planned.customer_interruptions == 3


def test_days_begin_at_midnight_in_the_zone_given() -> None:
    start, end = service.period_bounds(
        date(2025, 3, 1), date(2025, 3, 1), zone=ZoneInfo("Asia/Tokyo")
    )
    assert (start, end) == (
        datetime(2025, 2, 28, 15, tzinfo=UTC),
        datetime(2025, 3, 1, 15, tzinfo=UTC),
    )
