"""An outage's customers are those below its device as the network was operated then.

The ten-customer grid with a normally-open tie from SW-B's side of F1 (N-4) to F2 (N-6):
closing the tie and opening SW-B transfers B1-B3 to F2's breaker BR-2.
"""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from grid_topology.model import Device, DeviceKind
from outage.grid.enums import SwitchSource
from outage.grid.live import LiveTopology
from outage.grid.switching import operate
from outage.incidents.actions import apply_action
from outage.incidents.schemas import IncidentPatch
from outage.reliability.records import interruption_records, load_histories
from outage.reliability.service import reliability_report
from tests.conftest import own_database, rolled_back

from .conftest import F1_CUSTOMERS, on_site, outage, restore, ten_customer_grid

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
B = frozenset({"B1", "B2", "B3"})
C = frozenset({"C1", "C2", "C3"})


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def tie_database(database_url: str) -> Iterator[str]:
    grid = ten_customer_grid()
    tie = Device(
        "TIE-BC",
        DeviceKind.SWITCH,
        "N-4",
        "N-6",
        ((106.71, 10.77),),
        normal_open=True,
        is_open=True,
    )
    with own_database(
        database_url, "reliability_tie", replace(grid, devices=[*grid.devices, tie])
    ) as url:
        yield url


@pytest.fixture
def session(tie_database: str) -> Iterator[Session]:
    with rolled_back(tie_database) as db:
        yield db


def switch(session: Session, asset_ref: str, is_open: bool, when: datetime) -> None:
    operate(
        session,
        asset_ref,
        is_open=is_open,
        occurred_at=when,
        source=SwitchSource.DISPATCHER,
        actor="dispatcher-1",
    )


def transfer_b(session: Session, when: datetime) -> None:
    """Close the tie, then open SW-B: B1-B3 are fed by BR-2."""
    switch(session, "TIE-BC", False, when)
    switch(session, "SW-B", True, when + timedelta(seconds=30))


def trip(session: Session, breaker: str, when: datetime) -> int:
    """An outage is opened on the breaker (with the customers it fed), which protection
    opened (SCADA)."""
    incident = outage(session, breaker, when)
    operate(
        session, breaker, is_open=True, occurred_at=when, source=SwitchSource.SCADA, actor="scada"
    )
    return incident


def customers_out(session: Session, incident: int) -> frozenset[str]:
    (history,) = [
        h
        for h in load_histories(session, start=at(-60), end=at(240), as_of=at(170))
        if h.event == f"incident/{incident}"
    ]
    return history.accounts


def test_a_transfer_before_an_outage_counts_the_transferred_customers_under_the_other_breaker(
    session: Session,
) -> None:
    transfer_b(session, at(0))
    incident = trip(session, "BR-2", at(30))
    assert customers_out(session, incident) == C | B


def test_an_outage_before_a_transfer_counts_the_customers_under_their_own_breaker(
    session: Session,
) -> None:
    incident = trip(session, "BR-1", at(0))
    restore(session, incident, at(20))
    other = trip(session, "BR-2", at(25))
    restore(session, other, at(28))
    transfer_b(session, at(30))
    assert customers_out(session, incident) == frozenset(F1_CUSTOMERS)
    assert customers_out(session, other) == C


def test_switching_recorded_late_is_honoured_at_the_time_it_happened(session: Session) -> None:
    incident = trip(session, "BR-2", at(30))
    transfer_b(session, at(0))
    assert customers_out(session, incident) == C | B


def test_a_partial_restoration_gives_back_who_was_below_its_device_then(
    session: Session,
) -> None:
    """SW-B gave B1-B3 their supply back at 30; that B was transferred to F2 afterwards
    (SW-B open now, nobody below it) does not change who got it back."""
    incident = trip(session, "BR-1", at(0))
    on_site(session, incident)
    patch = IncidentPatch.model_validate(
        {"action": "partial_restore", "restored_device": "SW-B", "at": at(30)}
    )
    # as the API does: on the network as operated, where the tripped breaker counts closed
    apply_action(session, incident, patch, "dispatcher-1", live=LiveTopology())
    restore(session, incident, at(40))
    transfer_b(session, at(50))
    records = interruption_records(session, start=at(-60), end=at(240), as_of=at(170))
    ends = {r.customer: r.end for r in records if r.event == f"incident/{incident}"}
    assert ends == {**dict.fromkeys(B, at(30)), **dict.fromkeys(F1_CUSTOMERS[:4], at(40))}


def test_a_feeder_report_counts_its_customers_out_under_another_feeders_breaker(
    session: Session,
) -> None:
    """Customers belong to their normal feeder: the denominator and the numerator agree."""
    transfer_b(session, at(0))
    restore(session, trip(session, "BR-2", at(30)), at(90))
    report = reliability_report(
        session, start=at(-60), end=at(170), feeder="F1", zone=UTC, as_of=at(170)
    )
    assert report.customers_served == len(F1_CUSTOMERS)
    assert report.with_major_events.saifi == pytest.approx(len(B) / len(F1_CUSTOMERS))
