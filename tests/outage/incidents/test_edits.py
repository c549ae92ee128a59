"""A dispatcher's edits (move, split, merge, create, restored by switching), and the
engine's next cycle leaving them stand. On a database of their own: engine cycles and
switching would disturb the other suites."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage import clock
from outage.grid.live import LiveTopology
from outage.grid.models import Device
from outage.incidents import edits
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.errors import IncidentConflict, InvalidIncidentValue
from outage.incidents.evidence import EvidenceRef
from outage.incidents.interruptions import Below, incident_histories, interruptions_of
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident, Interruption
from outage.incidents.recorded import stored_records
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from outage.prediction.engine import Engine
from tests.conftest import own_database, rolled_back

from .conftest import Transfer, events_of, trip_and_transfer

WINDOW = timedelta(hours=2)
DISPATCHER = "dispatcher-1"


@pytest.fixture(scope="module")
def edits_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "edits", sample_grid) as url:
        yield url


@pytest.fixture
def session(edits_database: str) -> Iterator[Session]:
    with rolled_back(edits_database) as db:
        yield db


@pytest.fixture(scope="module")
def normal(sample_grid: GridModel) -> Topology:
    return Topology(Network.from_model(sample_grid))


@pytest.fixture(scope="module")
def fuses(normal: Topology, sample_grid: GridModel) -> list[str]:
    counts = normal.customer_counts()
    return [
        d.asset_ref
        for d in sample_grid.devices
        if d.kind is DeviceKind.FUSE and counts.get(d.asset_ref, 0) > 1
    ]


def _act(session: Session, incident_id: int, **body: object) -> None:
    apply_action(session, incident_id, IncidentPatch.model_validate(body), DISPATCHER)


def _open(session: Session, asset_ref: str, evidence: list[EvidenceRef] | None = None) -> int:
    return open_incident(
        session,
        device_asset_ref=asset_ref,
        confidence=0.6,
        customers_affected=3,
        started_at=datetime.now(UTC) - timedelta(minutes=30),
        evidence=evidence or [],
        reason="calls",
    )


def _report(session: Session) -> int:
    report = Report(
        ticket=f"T-{datetime.now(UTC).timestamp():.6f}"[-16:],
        channel=Channel.API,
        status=ReportStatus.RECEIVED,
        match_method=MatchMethod.NONE,
        match_confidence=0.0,
        candidates=[],
    )
    session.add(report)
    session.flush()
    return report.id


def _incident(session: Session, incident_id: int) -> Incident:
    return session.get_one(Incident, incident_id, populate_existing=True)


def _cycle(session: Session) -> None:
    Engine.load(session, window=WINDOW).run_cycle(session)


def _events(session: Session, incident_id: int) -> list[NotificationEvent]:
    return list(
        session.scalars(
            select(NotificationEvent)
            .where(NotificationEvent.incident_id == incident_id)
            .order_by(NotificationEvent.id)
        )
    )


def _device_of(session: Session, incident_id: int) -> str | None:
    return session.scalar(
        select(Device.asset_ref)
        .join(Incident, Incident.device_id == Device.id)
        .where(Incident.id == incident_id)
    )


def test_move_puts_the_incident_on_the_device_with_its_customers(
    session: Session, fuses: list[str], normal: Topology
) -> None:
    incident_id = _open(session, fuses[0])
    _act(session, incident_id, action="move", device=fuses[1], reason="crew found it here")
    incident = _incident(session, incident_id)
    assert _device_of(session, incident_id) == fuses[1]
    assert incident.customers_affected == len(normal.downstream(fuses[1]).accounts)
    assert incident.placed_by == DISPATCHER


def test_a_moved_incident_stands_through_the_next_engine_cycle(
    session: Session, fuses: list[str]
) -> None:
    incident_id = _open(session, fuses[0])
    _act(session, incident_id, action="move", device=fuses[1])
    _cycle(session)
    incident = _incident(session, incident_id)
    assert (incident.status, _device_of(session, incident_id)) == (
        IncidentStatus.PREDICTED,
        fuses[1],
    )


def test_the_engine_cancels_an_unedited_prediction_with_no_evidence(
    session: Session, fuses: list[str]
) -> None:
    incident_id = _open(session, fuses[0])
    _cycle(session)
    assert _incident(session, incident_id).status is IncidentStatus.CANCELLED


def test_moving_a_partly_restored_incident_stores_its_records_as_its_trail_gives_them(
    session: Session, fuses: list[str]
) -> None:
    incident_id = _open(session, fuses[0])
    on_site = [{"action": "confirm"}, {"action": "partial_restore", "restored_customers": 1}]
    for body in on_site:
        _act(session, incident_id, **body)
    _act(session, incident_id, action="move", device=fuses[1], reason="crew found it here")
    histories = incident_histories(
        session, Incident.id == incident_id, Below(session, LiveTopology().get(session))
    )
    finished = [
        r for h in histories for r in interruptions_of(h, as_of=clock.now()) if not r.ongoing
    ]
    assert finished
    assert stored_records(session, Interruption.incident_id == incident_id) == finished


def test_move_to_the_same_device_is_refused(session: Session, fuses: list[str]) -> None:
    incident_id = _open(session, fuses[0])
    with pytest.raises(IncidentConflict):
        _act(session, incident_id, action="move", device=fuses[0])


def test_split_moves_the_evidence_to_a_new_confirmed_incident(
    session: Session, fuses: list[str]
) -> None:
    kept, gone = _report(session), _report(session)
    incident_id = _open(session, fuses[0], [EvidenceRef.report(kept), EvidenceRef.report(gone)])
    _act(session, incident_id, action="split", device=fuses[1], reports=[gone])
    new_id = session.scalar(select(Report.incident_id).where(Report.id == gone))
    assert new_id is not None and new_id != incident_id
    assert _incident(session, new_id).status is IncidentStatus.CONFIRMED
    assert session.scalar(select(Report.incident_id).where(Report.id == kept)) == incident_id


def test_split_incidents_stand_through_the_next_engine_cycle(
    session: Session, fuses: list[str]
) -> None:
    kept, gone = _report(session), _report(session)
    incident_id = _open(session, fuses[0], [EvidenceRef.report(kept), EvidenceRef.report(gone)])
    _act(session, incident_id, action="split", device=fuses[1], reports=[gone])
    new_id = session.scalar(select(Report.incident_id).where(Report.id == gone))
    assert new_id is not None
    _cycle(session)
    assert _incident(session, incident_id).status is IncidentStatus.PREDICTED
    assert _incident(session, new_id).status is IncidentStatus.CONFIRMED


def test_split_refuses_evidence_of_another_incident(session: Session, fuses: list[str]) -> None:
    incident_id = _open(session, fuses[0])
    with pytest.raises(InvalidIncidentValue):
        _act(session, incident_id, action="split", device=fuses[1], reports=[_report(session)])


def test_merge_takes_the_other_incident_in(session: Session, fuses: list[str]) -> None:
    keep, other = _open(session, fuses[0]), _open(session, fuses[1])
    _act(session, keep, action="merge", merged_id=other)
    merged = _incident(session, other)
    assert (merged.status, merged.merged_into_id) == (IncidentStatus.CANCELLED, keep)
    assert _incident(session, keep).placed_by == DISPATCHER


def test_a_merged_incident_stands_through_the_next_engine_cycle(
    session: Session, fuses: list[str]
) -> None:
    keep, other = _open(session, fuses[0]), _open(session, fuses[1])
    _act(session, keep, action="merge", merged_id=other)
    _cycle(session)
    assert _incident(session, keep).status is IncidentStatus.PREDICTED


def test_create_opens_a_confirmed_incident_and_tells_its_customers(
    session: Session, fuses: list[str], normal: Topology
) -> None:
    incident_id = edits.create(
        session,
        fuses[2],
        operated=LiveTopology().get(session),
        cause="broken pole",
        started_at=None,
        actor=DISPATCHER,
        reason="crew found it",
    )
    incident = _incident(session, incident_id)
    assert (incident.status, incident.cause, incident.customers_affected) == (
        IncidentStatus.CONFIRMED,
        "broken pole",
        len(normal.downstream(fuses[2]).accounts),
    )
    assert [e.kind for e in _events(session, incident_id)] == [EventKind.OUTAGE_DETECTED]


def test_a_created_incident_stands_through_the_next_engine_cycle(
    session: Session, fuses: list[str]
) -> None:
    incident_id = edits.create(
        session,
        fuses[2],
        operated=LiveTopology().get(session),
        cause=None,
        started_at=None,
        actor=DISPATCHER,
        reason=None,
    )
    _cycle(session)
    incident = _incident(session, incident_id)
    assert (incident.status, _device_of(session, incident_id)) == (
        IncidentStatus.CONFIRMED,
        fuses[2],
    )


def test_create_refuses_a_device_with_an_active_incident(
    session: Session, fuses: list[str]
) -> None:
    _open(session, fuses[2])
    with pytest.raises(IncidentConflict):
        edits.create(
            session,
            fuses[2],
            operated=LiveTopology().get(session),
            cause=None,
            started_at=None,
            actor=DISPATCHER,
            reason=None,
        )


def test_partial_restore_by_count_tells_nobody_and_says_so(
    session: Session, fuses: list[str]
) -> None:
    incident_id = _open(session, fuses[0])
    for body in ({"action": "confirm"}, {"action": "partial_restore", "restored_customers": 1}):
        _act(session, incident_id, **body)
    assert EventKind.RESTORED not in [e.kind for e in _events(session, incident_id)]
    assert events_of(session, incident_id)[-1].details["told"].startswith("nobody")


def test_restored_by_switching_tells_exactly_the_resupplied_customers(
    session: Session, transfer: Transfer, normal: Topology
) -> None:
    incident_id = trip_and_transfer(session, transfer)
    _act(session, incident_id, action="restored_by_switching")
    incident = _incident(session, incident_id)
    back = normal.downstream(transfer.section).accounts
    assert incident.status is IncidentStatus.PARTIALLY_RESTORED
    assert incident.customers_affected == len(normal.downstream(transfer.head).accounts) - len(back)
    restored = [e for e in _events(session, incident_id) if e.kind is EventKind.RESTORED]
    assert [set(e.accounts or ()) for e in restored] == [set(back)]


def test_restored_by_switching_restores_when_nobody_is_left_out(
    session: Session, transfer: Transfer
) -> None:
    incident_id = trip_and_transfer(session, transfer, section=False)
    _act(session, incident_id, action="restored_by_switching")
    assert _incident(session, incident_id).status is IncidentStatus.RESTORED


def test_restored_by_switching_twice_is_refused(session: Session, transfer: Transfer) -> None:
    incident_id = trip_and_transfer(session, transfer)
    _act(session, incident_id, action="restored_by_switching")
    with pytest.raises(IncidentConflict):
        _act(session, incident_id, action="restored_by_switching")


def test_the_engine_recounts_a_dispatchers_incident_after_switching(
    session: Session, transfer: Transfer, normal: Topology
) -> None:
    incident_id = trip_and_transfer(session, transfer)
    _cycle(session)
    incident = _incident(session, incident_id)
    still_out = len(normal.downstream(transfer.head).accounts) - len(
        normal.downstream(transfer.section).accounts
    )
    assert (incident.status, incident.customers_affected) == (IncidentStatus.CONFIRMED, still_out)
