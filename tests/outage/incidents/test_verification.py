"""Verifying a restoration by pinging meters: which meters are chosen, and the pings a
restoration records (on the sample grid, rolled back)."""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.grid.models import Customer, Premise
from outage.incidents.changes import open_incident, restore
from outage.incidents.verification import MeterBelow, choose_meters
from outage.intake.enums import PingReason, PingState
from outage.intake.models import MeterPing

from .conftest import Places, act

OpenOn = Callable[..., int]

NO_HEADEND_REACHED = "http://127.0.0.1:9"
"""A head-end named, never reached: the tests look at the pings recorded, not sent."""


def _meters(section: str, n: int, *, critical: int = 0) -> list[MeterBelow]:
    return [MeterBelow(f"{section}-{i}", section, i < critical) for i in range(n)]


def _chosen(meters: list[MeterBelow], per_section: int = 2, max_sampled: int = 100) -> list[str]:
    return choose_meters(meters, per_section=per_section, max_sampled=max_sampled, seed=7)


def test_every_critical_customers_meter_is_asked_whatever_the_cap() -> None:
    meters = _meters("T1", 5, critical=3) + _meters("T2", 5)
    assert set(_chosen(meters, max_sampled=0)) == {"T1-0", "T1-1", "T1-2"}


def test_each_section_has_a_meter_asked_before_any_has_a_second() -> None:
    meters = [m for t in ("T1", "T2", "T3") for m in _meters(t, 5)]
    chosen = _chosen(meters, max_sampled=3)
    assert sorted(m.split("-")[0] for m in chosen) == ["T1", "T2", "T3"]


def test_a_section_has_at_most_its_count_asked_its_critical_meters_included() -> None:
    chosen = _chosen(_meters("T1", 6, critical=1) + _meters("T2", 6), per_section=2)
    assert sorted(m.split("-")[0] for m in chosen) == ["T1", "T1", "T2", "T2"]


def test_the_sample_stops_at_its_cap() -> None:
    meters = [m for t in ("T1", "T2", "T3", "T4") for m in _meters(t, 5)]
    assert len(_chosen(meters, per_section=3, max_sampled=5)) == 5


def test_the_same_seed_chooses_the_same_meters() -> None:
    meters = [m for t in ("T1", "T2", "T3") for m in _meters(t, 9)]
    assert _chosen(meters) == _chosen(list(reversed(meters)))


def _pings(session: Session, incident_id: int) -> list[MeterPing]:
    return list(session.scalars(select(MeterPing).where(MeterPing.incident_id == incident_id)))


def _restored(session: Session, incident_id: int) -> list[MeterPing]:
    restore(session, incident_id, at=datetime.now(UTC), reason="crew: fuse replaced")
    return _pings(session, incident_id)


def test_without_a_headend_a_restoration_asks_nothing(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    assert _restored(session, open_on(session, places.head)) == []


def test_a_restoration_asks_critical_customers_and_meters_under_each_fuse_and_transformer(
    session: Session,
    places: Places,
    open_on: OpenOn,
    name_headend: Callable[[str], None],
    sample_grid: GridModel,
) -> None:
    name_headend(NO_HEADEND_REACHED)
    topology = Topology(Network.from_model(sample_grid))
    meter_of = {p.customer.account: p.meter_id for p in sample_grid.premises}
    below = topology.downstream(places.head)
    critical = sorted(below.accounts)[len(below.accounts) // 2]
    session.execute(
        update(Customer).where(Customer.account == critical).values(critical="hospital")
    )
    pings = _restored(session, open_on(session, places.head))
    asked = {p.meter_id for p in pings}
    assert meter_of[critical] in asked
    assert asked <= {meter_of[a] for a in below.accounts}
    sections = [
        d
        for d in below.devices
        if topology.network.links[d].is_protective
        or topology.network.links[d].kind is DeviceKind.TRANSFORMER
    ]
    for section in sections:
        under = {meter_of[a] for a in topology.downstream(section).accounts}
        assert not under or under & asked, section
    assert {(p.reason, p.state) for p in pings} == {(PingReason.RESTORATION, PingState.PENDING)}


def test_a_restoration_finds_the_meters_below_on_the_network_it_is_given(
    session: Session, places: Places, open_on: OpenOn, name_headend: Callable[[str], None]
) -> None:
    """An engine's region is the network it restores on: a device not in it has nothing
    below it there, whatever the whole network holds."""
    name_headend(NO_HEADEND_REACHED)
    incident_id = open_on(session, places.head)
    elsewhere = Topology(Network(links={}, sources=frozenset()))
    restore(session, incident_id, at=datetime.now(UTC), reason="SCADA: closed", topology=elsewhere)
    assert _pings(session, incident_id) == []


def test_a_dispatchers_restoration_is_verified_too(
    session: Session, places: Places, open_on: OpenOn, name_headend: Callable[[str], None]
) -> None:
    name_headend(NO_HEADEND_REACHED)
    incident_id = open_on(session, places.fuses[0])
    act(session, incident_id, "restored", reason="fuse replaced")
    assert {p.reason for p in _pings(session, incident_id)} == {PingReason.RESTORATION}


def test_a_single_service_restoration_asks_its_meter(
    session: Session, name_headend: Callable[[str], None]
) -> None:
    name_headend(NO_HEADEND_REACHED)
    account, meter_id = session.execute(
        select(Customer.account, Premise.meter_id)
        .join(Premise, Premise.id == Customer.premise_id)
        .where(Premise.meter_id.is_not(None))
        .limit(1)
    ).one()
    incident_id = open_incident(
        session,
        account=account,
        confidence=1.0,
        customers_affected=1,
        started_at=datetime.now(UTC),
        reason="one call",
    )
    assert [p.meter_id for p in _restored(session, incident_id)] == [meter_id]
