"""The live read model on the real database: each figure moves by what one incident
does to it (other suites' incidents share the database, so the tests compare before and
after)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from outage.incidents import changes, live
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.models import Incident
from outage.intake.enums import Hazard
from tests.outage.incidents.conftest import Places, act

HOUR = timedelta(hours=1)


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


def _series(session: Session, now: datetime) -> list[int]:
    found = live.customers_out_series(session, since=now - 4 * HOUR, now=now, step=HOUR)
    return [point.customers for point in found]


def _minus(after: list[int], before: list[int]) -> list[int]:
    return [a - b for a, b in zip(after, before, strict=True)]


def test_customers_out_now_are_those_of_active_outages_not_yet_restored(
    session: Session, places: Places, open_on: Callable[..., int]
) -> None:
    before = live.customers_out(session)
    incident = open_on(session, places.fuses[0], customers_affected=20)
    act(session, incident, "partial_restore", restored_customers=5)
    assert live.customers_out(session) - before == 15


def test_a_hazard_puts_nobody_out(session: Session) -> None:
    before = live.customers_out(session)
    changes.open_incident(
        session,
        kind=IncidentKind.HAZARD,
        confidence=1.0,
        customers_affected=5,
        started_at=datetime.now(UTC) - HOUR,
        hazard=Hazard.WIRES_DOWN,
        reason="wires down",
    )
    assert live.customers_out(session) == before


def test_a_nested_outage_counts_under_its_active_parent(
    session: Session, places: Places, open_on: Callable[..., int]
) -> None:
    before = live.customers_out(session)
    parent = open_on(session, places.head, customers_affected=50)
    nested = open_on(session, places.fuse_below_head, customers_affected=8)
    session.get_one(Incident, nested).parent_id = parent
    session.flush()
    assert live.customers_out(session) - before == 50


def test_every_active_status_is_listed_in_lifecycle_order(session: Session) -> None:
    found = live.incidents_by_status(session)
    assert [row.status for row in found] == [s for s in IncidentStatus if s in ACTIVE]


def test_a_new_incident_counts_as_predicted(
    session: Session, places: Places, open_on: Callable[..., int]
) -> None:
    def predicted() -> int:
        [count] = [
            row.incidents
            for row in live.incidents_by_status(session)
            if row.status is IncidentStatus.PREDICTED
        ]
        return count

    before = predicted()
    open_on(session, places.fuses[0])
    assert predicted() - before == 1


def test_the_series_counts_an_outage_from_its_start(
    session: Session, places: Places, open_on: Callable[..., int], now: datetime
) -> None:
    before = _series(session, now)
    open_on(session, places.fuses[0], customers_affected=20, started_at=now - 2.5 * HOUR)
    assert _minus(_series(session, now), before) == [0, 0, 20, 20, 20]


def test_the_series_drops_a_partial_restoration_from_its_time(
    session: Session, places: Places, open_on: Callable[..., int], now: datetime
) -> None:
    before = _series(session, now)
    incident = open_on(session, places.fuses[0], customers_affected=20, started_at=now - 3.5 * HOUR)
    act(session, incident, "partial_restore", restored_customers=5, at=now - 1.5 * HOUR)
    assert _minus(_series(session, now), before) == [0, 20, 20, 15, 15]


def test_the_series_leaves_a_restored_outage_out_from_its_restoration(
    session: Session, places: Places, open_on: Callable[..., int], now: datetime
) -> None:
    before = _series(session, now)
    incident = open_on(session, places.fuses[0], customers_affected=20, started_at=now - 3.5 * HOUR)
    act(session, incident, "restored", at=now - 1.5 * HOUR)
    assert _minus(_series(session, now), before) == [0, 20, 20, 0, 0]


def test_the_series_ends_at_now(session: Session, now: datetime) -> None:
    found = live.customers_out_series(
        session, since=now - 90 * timedelta(minutes=1), now=now, step=HOUR
    )
    assert [point.at for point in found] == [now - 1.5 * HOUR, now - 0.5 * HOUR, now]


def test_an_etr_passed_while_still_out_is_lapsed(
    session: Session, places: Places, open_on: Callable[..., int], now: datetime
) -> None:
    before = live.lapsed_etrs(session, since=now - 12 * HOUR, now=now)
    incident = open_on(session, places.fuses[0], started_at=now - 3 * HOUR)
    changes.set_etr(session, incident, etr=now - HOUR)
    after = live.lapsed_etrs(session, since=now - 12 * HOUR, now=now)
    assert (after.incidents - before.incidents, after.still_out - before.still_out) == (1, 1)


def test_an_etr_replaced_after_it_passed_stays_lapsed(
    session: Session, places: Places, open_on: Callable[..., int], now: datetime
) -> None:
    before = live.lapsed_etrs(session, since=now - 12 * HOUR, now=now)
    incident = open_on(session, places.fuses[0], started_at=now - 3 * HOUR)
    changes.set_etr(session, incident, etr=now - HOUR)
    changes.set_etr(session, incident, etr=now + HOUR)
    after = live.lapsed_etrs(session, since=now - 12 * HOUR, now=now)
    assert after.incidents - before.incidents == 1


def test_an_etr_still_ahead_is_not_lapsed(
    session: Session, places: Places, open_on: Callable[..., int], now: datetime
) -> None:
    before = live.lapsed_etrs(session, since=now - 12 * HOUR, now=now)
    incident = open_on(session, places.fuses[0], started_at=now - 3 * HOUR)
    changes.set_etr(session, incident, etr=now + HOUR)
    assert live.lapsed_etrs(session, since=now - 12 * HOUR, now=now) == before


def test_an_outage_restored_before_its_etr_is_not_lapsed(
    session: Session, places: Places, open_on: Callable[..., int], now: datetime
) -> None:
    before = live.lapsed_etrs(session, since=now - 12 * HOUR, now=now)
    incident = open_on(session, places.fuses[0], started_at=now - 3 * HOUR)
    changes.set_etr(session, incident, etr=now - HOUR)
    act(session, incident, "restored", at=now - 2 * HOUR)
    assert live.lapsed_etrs(session, since=now - 12 * HOUR, now=now) == before
