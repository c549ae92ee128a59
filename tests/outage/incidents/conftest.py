"""Places on the sample grid, sessions, and evidence rows for incident tests."""

import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from grid_topology.model import SWITCHING_KINDS, DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.db import session_factory, session_scope
from outage.grid.enums import SwitchSource
from outage.grid.live import LiveTopology
from outage.grid.models import Device, Feeder, Premise
from outage.grid.switching import operate
from outage.incidents import edits
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.models import IncidentEvent
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import (
    Channel,
    MatchMethod,
    MeterEventKind,
    PingReason,
    PingState,
    ReportStatus,
    SwitchState,
)
from outage.intake.models import MeterEvent, MeterPing, Report, ScadaEvent
from tests.conftest import rolled_back

T = TypeVar("T")


@dataclass(frozen=True)
class Places:
    """Devices and customers of the sample grid that incident tests put incidents on."""

    fuses: tuple[str, ...]
    """Fuses with customers below them, of both feeders."""
    feeder_of: dict[str, str]
    line: str
    head: str
    """The first feeder's breaker."""
    fuse_below_head: str
    """A fuse under `head`, with fewer customers than it."""
    customers: dict[str, int]
    """Customers downstream of each device."""
    accounts: tuple[str, ...]


@pytest.fixture(scope="session")
def places(grid_database: str, sample_grid: GridModel) -> Places:
    topology = Topology(Network.from_model(sample_grid))
    customers = topology.customer_counts()
    with session_scope(session_factory(grid_database)) as session:
        feeder_of = {
            ref: name
            for ref, name in session.execute(
                select(Device.asset_ref, Feeder.name).join(Feeder, Feeder.id == Device.feeder_id)
            )
        }
    fuses = tuple(
        d.asset_ref
        for d in sample_grid.devices
        if d.kind is DeviceKind.FUSE and customers.get(d.asset_ref, 0) > 1
    )
    head = sample_grid.feeders[0].head
    below = set(topology.downstream(head).devices)
    return Places(
        fuses=fuses,
        feeder_of=feeder_of,
        line=next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.LINE),
        head=head,
        fuse_below_head=next(f for f in fuses if f in below),
        customers=customers,
        accounts=tuple(p.customer.account for p in sample_grid.premises),
    )


@pytest.fixture
def session(grid_database: str) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    with rolled_back(grid_database) as db:
        yield db


@pytest.fixture
def committed(grid_database: str) -> Callable[[Callable[[Session], T]], T]:
    """`committed(lambda s: open_incident(s, ...))`: run it in a transaction of its own."""

    def run(work: Callable[[Session], T]) -> T:
        with session_scope(session_factory(grid_database)) as db:
            return work(db)

    return run


_ticks = count()


@pytest.fixture
def add_report() -> Callable[[Session], int]:
    """A placed outage report, as intake stores one; returns its id."""

    def add(db: Session) -> int:
        report = Report(
            ticket=f"T-{secrets.token_hex(5).upper()}",
            channel=Channel.API,
            status=ReportStatus.RECEIVED,
            match_method=MatchMethod.NONE,
            match_confidence=0.0,
            candidates=[],
        )
        db.add(report)
        db.flush()
        return report.id

    return add


@pytest.fixture
def add_meter_event() -> Callable[[Session], int]:
    def add(db: Session) -> int:
        premise_id, meter_id = db.execute(
            select(Premise.id, Premise.meter_id).where(Premise.meter_id.is_not(None)).limit(1)
        ).one()
        event = MeterEvent(
            meter_id=meter_id,
            premise_id=premise_id,
            kind=MeterEventKind.LAST_GASP,
            occurred_at=_unique_time(),
        )
        db.add(event)
        db.flush()
        return event.id

    return add


@pytest.fixture
def add_scada_event() -> Callable[[Session, str], int]:
    def add(db: Session, asset_ref: str) -> int:
        device_id = db.scalar(select(Device.id).where(Device.asset_ref == asset_ref))
        event = ScadaEvent(device_id=device_id, state=SwitchState.OPEN, occurred_at=_unique_time())
        db.add(event)
        db.flush()
        return event.id

    return add


@dataclass(frozen=True)
class Meter:
    meter_id: str
    premise_id: int


@pytest.fixture(scope="session")
def metered(grid_database: str) -> dict[str, list[Meter]]:
    """The smart meters under each transformer of the sample grid (asset ref -> meters)."""
    with session_scope(session_factory(grid_database)) as db:
        rows = db.execute(
            select(Device.asset_ref, Premise.meter_id, Premise.id)
            .join(Device, Device.id == Premise.transformer_id)
            .where(Premise.meter_id.is_not(None))
            .order_by(Device.asset_ref, Premise.id)
        ).all()
    found: dict[str, list[Meter]] = {}
    for transformer, meter_id, premise_id in rows:
        found.setdefault(transformer, []).append(Meter(meter_id, premise_id))
    return found


def add_ping(
    db: Session,
    incident_id: int,
    meter: Meter,
    state: PingState,
    *,
    reason: PingReason = PingReason.VERIFY_INCIDENT,
    asked_at: datetime | None = None,
    answered_at: datetime | None = None,
) -> None:
    """A meter asked about the incident, as `outage.intake.pings` records one, answered
    `state` (at `answered_at`, else a minute after it was asked, unless still pending)."""
    asked = asked_at or datetime.now(UTC) - timedelta(minutes=10)
    if answered_at is None and state is not PingState.PENDING:
        answered_at = asked + timedelta(minutes=1)
    db.add(
        MeterPing(
            request_id=uuid.uuid4().hex,
            meter_id=meter.meter_id,
            premise_id=meter.premise_id,
            reason=reason,
            incident_id=incident_id,
            asked_at=asked,
            sent_at=asked,
            state=state,
            answered_at=answered_at,
        )
    )
    db.flush()


def _unique_time() -> datetime:
    """Event times no other test (or earlier run) used: the source tables keep events once."""
    return datetime.now(UTC) - timedelta(days=1) + timedelta(microseconds=next(_ticks))


@pytest.fixture
def open_on() -> Callable[..., int]:
    """Open an outage on a device the engine's way, with sensible defaults."""

    def open_(db: Session, asset_ref: str, **overrides: Any) -> int:
        values: dict[str, Any] = {
            "device_asset_ref": asset_ref,
            "confidence": 0.7,
            "customers_affected": 20,
            "started_at": datetime.now(UTC) - timedelta(minutes=30),
            "reason": "calls under the fuse",
        }
        values.update(overrides)
        return open_incident(db, **values)

    return open_


def events_of(session: Session, incident_id: int) -> list[IncidentEvent]:
    """The incident's audit trail, oldest first."""
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.id)
        )
    )


def act(session: Session, incident_id: int, action: str, **fields: object) -> None:
    """A dispatcher's action on the incident."""
    patch = IncidentPatch.model_validate({"action": action, **fields})
    apply_action(session, incident_id, patch, "dispatcher-1")


# Switching: a feeder's head tripped, a switch on the way to the tie opened and the tie
# closed, so the customers beyond that switch have supply from the neighbouring feeder.


class Transfer:
    """The sample grid's feeder head, the normally-open tie to its neighbour, and the
    switch that isolates the part of the feeder the tie can feed."""

    def __init__(self, sample_grid: GridModel) -> None:
        normal = Topology(Network.from_model(sample_grid))
        heads = [f.head for f in sample_grid.feeders]
        owner = normal.nearest_upstream(heads).nodes
        for device in sample_grid.devices:
            a, b = owner.get(device.from_node), owner.get(device.to_node)
            if device.is_open and device.kind in SWITCHING_KINDS and a and b and a != b:
                self.tie = device.asset_ref
                self.head = a
                near = device.from_node if a == owner.get(device.from_node) else device.to_node
                break
        counts = normal.customer_counts()
        self.section = next(
            ref
            for ref in normal.upstream_of_node(near).devices
            if ref != self.head
            and normal.network.links[ref].kind in SWITCHING_KINDS
            and 0 < counts.get(ref, 0) < counts[self.head]
        )


@pytest.fixture(scope="session")
def transfer(sample_grid: GridModel) -> Transfer:
    return Transfer(sample_grid)


def trip_and_transfer(
    session: Session, transfer: Transfer, *, section: bool = True, actor: str = "dispatcher-1"
) -> int:
    """The head trips half an hour ago and a dispatcher's incident is open on it; then the
    section opens (unless not `section`) and the tie closes, now. Returns the incident."""
    started = datetime.now(UTC) - timedelta(minutes=30)
    operate(
        session,
        transfer.head,
        is_open=True,
        occurred_at=started,
        source=SwitchSource.SCADA,
        actor="scada",
    )
    incident_id = edits.create(
        session,
        transfer.head,
        operated=LiveTopology().get(session),
        cause=None,
        started_at=started,
        actor=actor,
        reason=None,
    )
    now = datetime.now(UTC)
    steps = (
        [(transfer.section, True), (transfer.tie, False)] if section else [(transfer.tie, False)]
    )
    for ref, is_open in steps:
        operate(
            session,
            ref,
            is_open=is_open,
            occurred_at=now,
            source=SwitchSource.DISPATCHER,
            actor=actor,
        )
    return incident_id


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session sends meanwhile."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
