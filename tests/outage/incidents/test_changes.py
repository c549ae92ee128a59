"""The incidents' changes as the prediction engine makes them, on the sample grid (rolled back)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.etr import EtrSource
from outage.incidents.actions import apply_action
from outage.incidents.changes import (
    cancel,
    confirm,
    merge_incidents,
    open_incident,
    open_nested,
    restore,
    set_etr,
    update_prediction,
)
from outage.incidents.enums import Action, AuditAction, IncidentKind
from outage.incidents.errors import IncidentConflict, InvalidIncidentValue, UnknownAsset
from outage.incidents.evidence import EvidenceRef
from outage.incidents.lifecycle import IncidentStatus, InvalidTransition
from outage.incidents.models import IncidentEvent, IncidentEvidence
from outage.incidents.queries import active_incidents, get_incident
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import Hazard
from outage.intake.models import Report
from tests.conftest import make_crew

from .conftest import Places

OpenOn = Callable[..., int]
S = IncidentStatus


def _events(session: Session, incident_id: int) -> list[IncidentEvent]:
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.id)
        )
    )


def _act(session: Session, incident_id: int, action: str, **fields: object) -> None:
    patch = IncidentPatch.model_validate({"action": action, **fields})
    apply_action(session, incident_id, patch, "dispatcher-1")


def test_open_incident_is_predicted_on_the_device_and_its_feeder(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    fuse = places.fuses[0]
    incident = get_incident(session, open_on(session, fuse))
    assert incident.status is S.PREDICTED
    assert incident.device is not None
    assert (incident.device.asset_ref, incident.device.kind) == (fuse, "fuse")
    assert incident.feeder == places.feeder_of[fuse]
    assert incident.version == 1


def test_opening_is_audited_with_actor_and_reason(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0], reason="3 calls under the fuse")
    [event] = _events(session, incident_id)
    assert (event.action, event.actor, event.reason) == (
        AuditAction.OPENED,
        "engine",
        "3 calls under the fuse",
    )
    assert (event.from_status, event.to_status) == (None, S.PREDICTED)
    assert event.details["device"] == places.fuses[0]


def test_single_service_outage_is_on_the_customers_premise(
    session: Session, places: Places
) -> None:
    incident_id = open_incident(
        session,
        account=places.accounts[3],
        confidence=0.5,
        customers_affected=1,
        started_at=datetime.now(UTC),
        reason="one call nothing else explains",
    )
    incident = get_incident(session, incident_id)
    assert incident.device is None
    assert incident.premise is not None
    assert incident.feeder is not None


def test_attached_reports_point_to_the_incident_and_are_counted(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    reports = [add_report(session) for _ in range(3)]
    incident_id = open_on(
        session, places.fuses[1], evidence=[EvidenceRef.report(r) for r in reports]
    )
    pointing = session.scalars(select(Report.incident_id).where(Report.id.in_(reports))).all()
    assert pointing == [incident_id] * 3
    assert get_incident(session, incident_id).report_count == 3


def test_unknown_device_is_refused(session: Session) -> None:
    with pytest.raises(UnknownAsset, match="no-such-fuse"):
        open_incident(
            session,
            device_asset_ref="no-such-fuse",
            confidence=0.5,
            customers_affected=1,
            started_at=datetime.now(UTC),
            reason="test",
        )


def test_unknown_evidence_is_refused(session: Session, places: Places, open_on: OpenOn) -> None:
    with pytest.raises(UnknownAsset, match="report"):
        open_on(session, places.fuses[0], evidence=[EvidenceRef.report(-1)])


def test_hazard_incident_needs_its_hazard(session: Session) -> None:
    with pytest.raises(InvalidIncidentValue, match="hazard"):
        open_incident(
            session,
            kind=IncidentKind.HAZARD,
            confidence=1.0,
            customers_affected=0,
            started_at=datetime.now(UTC),
            reason="wires down reported",
        )


def test_hazard_may_be_opened_without_a_place(session: Session) -> None:
    incident_id = open_incident(
        session,
        kind=IncidentKind.HAZARD,
        hazard=Hazard.WIRES_DOWN,
        confidence=1.0,
        customers_affected=0,
        started_at=datetime.now(UTC),
        reason="wires down reported",
    )
    incident = get_incident(session, incident_id)
    assert (incident.kind, incident.hazard, incident.device) == ("hazard", "wires_down", None)


def test_naive_start_time_is_refused(session: Session, places: Places, open_on: OpenOn) -> None:
    with pytest.raises(InvalidIncidentValue, match="time zone"):
        open_on(session, places.fuses[0], started_at=datetime(2026, 11, 25, 10, 0))


def test_moving_the_device_is_audited_as_moved(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    first, second = places.fuses[0], places.fuses[2]
    incident_id = open_on(session, first)
    changed = update_prediction(
        session, incident_id, device_asset_ref=second, reason="calls on both branches"
    )
    moved = _events(session, incident_id)[-1]
    assert changed
    assert moved.action is AuditAction.MOVED
    assert moved.details == {"from": {"device": first}, "to": {"device": second}}
    device = get_incident(session, incident_id).device
    assert device is not None
    assert device.asset_ref == second


def test_update_changes_confidence_and_customers(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0], confidence=0.6, customers_affected=20)
    update_prediction(
        session, incident_id, confidence=0.9, customers_affected=25, reason="more calls"
    )
    incident = get_incident(session, incident_id)
    assert (incident.confidence, incident.customers_affected, incident.version) == (0.9, 25, 2)
    assert incident.events[-1].details == {"confidence": [0.6, 0.9], "customers_affected": [20, 25]}


def test_update_with_the_same_values_writes_nothing(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    fuse = places.fuses[0]
    incident_id = open_on(session, fuse, confidence=0.7, customers_affected=20)
    changed = update_prediction(
        session,
        incident_id,
        device_asset_ref=fuse,
        confidence=0.7,
        customers_affected=20,
        reason="same again",
    )
    assert not changed
    assert len(_events(session, incident_id)) == 1
    assert get_incident(session, incident_id).version == 1


def test_device_of_a_confirmed_incident_does_not_move(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    confirm(session, incident_id, reason="SCADA")
    with pytest.raises(IncidentConflict, match="no longer a prediction"):
        update_prediction(session, incident_id, device_asset_ref=places.fuses[2], reason="moved?")


def test_update_adds_meter_and_scada_evidence(
    session: Session,
    places: Places,
    open_on: OpenOn,
    add_meter_event: Callable[[Session], int],
    add_scada_event: Callable[[Session, str], int],
) -> None:
    incident_id = open_on(session, places.fuses[0])
    update_prediction(
        session,
        incident_id,
        add_evidence=[
            EvidenceRef.meter_event(add_meter_event(session)),
            EvidenceRef.scada_event(add_scada_event(session, places.fuses[0])),
        ],
        reason="last gasp and breaker open",
    )
    evidence = get_incident(session, incident_id).evidence
    assert (evidence.reports, evidence.meter_events, evidence.scada_events) == (0, 1, 1)


def test_adding_the_same_evidence_twice_counts_it_once(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    report = EvidenceRef.report(add_report(session))
    incident_id = open_on(session, places.fuses[0], evidence=[report])
    changed = update_prediction(session, incident_id, add_evidence=[report], reason="again")
    assert not changed
    assert get_incident(session, incident_id).evidence.reports == 1


def test_removed_report_no_longer_points_to_the_incident(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    report_id = add_report(session)
    incident_id = open_on(session, places.fuses[0], evidence=[EvidenceRef.report(report_id)])
    update_prediction(
        session, incident_id, remove_evidence=[EvidenceRef.report(report_id)], reason="noise"
    )
    assert session.scalar(select(Report.incident_id).where(Report.id == report_id)) is None
    assert get_incident(session, incident_id).report_count == 0


def test_merged_incident_is_cancelled_and_points_to_the_one_kept(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    keep, merged = open_on(session, places.fuses[0]), open_on(session, places.fuses[2])
    merge_incidents(session, keep, merged, reason="one fault upstream")
    incident = get_incident(session, merged)
    assert (incident.status, incident.merged_into_id) == (S.CANCELLED, keep)
    assert incident.events[-1].action is AuditAction.MERGED
    assert get_incident(session, keep).events[-1].action is AuditAction.ABSORBED


def test_merge_moves_evidence_and_reports(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    reports = [EvidenceRef.report(add_report(session)) for _ in range(2)]
    keep = open_on(session, places.fuses[0], evidence=reports[:1])
    merged = open_on(session, places.fuses[2], evidence=reports)
    merge_incidents(session, keep, merged, reason="one fault upstream")
    left = session.scalar(select(func.count()).where(IncidentEvidence.incident_id == merged))
    assert left == 0
    assert get_incident(session, keep).report_count == 2


def test_merge_keeps_the_earlier_start(session: Session, places: Places, open_on: OpenOn) -> None:
    early = datetime.now(UTC) - timedelta(hours=2)
    keep = open_on(session, places.fuses[0])
    merged = open_on(session, places.fuses[2], started_at=early)
    merge_incidents(session, keep, merged, reason="one fault upstream")
    assert get_incident(session, keep).started_at == early


def test_merge_moves_nested_incidents_to_the_one_kept(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    keep, merged = open_on(session, places.fuses[0]), open_on(session, places.head)
    child = open_nested(
        session,
        merged,
        device_asset_ref=places.fuse_below_head,
        confidence=0.8,
        customers_affected=10,
        reason="still out",
    )
    merge_incidents(session, keep, merged, reason="the same outage")
    assert get_incident(session, child).parent_id == keep


def test_merging_an_incident_with_a_crew_is_refused(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    keep, merged = open_on(session, places.fuses[0]), open_on(session, places.fuses[2])
    crew = make_crew(session)
    _act(session, merged, "assign", crew_id=crew)
    with pytest.raises(IncidentConflict, match=f"crew {crew}"):
        merge_incidents(session, keep, merged, reason="one fault upstream")


def test_cancel_is_audited_with_actor_and_reason(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    cancel(session, incident_id, actor="engine", reason="the calls were noise")
    event = _events(session, incident_id)[-1]
    assert (event.action, event.actor, event.reason) == (
        AuditAction.CANCELLED,
        "engine",
        "the calls were noise",
    )
    assert (event.from_status, event.to_status) == (S.PREDICTED, S.CANCELLED)


def test_restored_incident_cannot_be_cancelled(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    restore(session, incident_id, at=datetime.now(UTC), reason="meters back")
    with pytest.raises(InvalidTransition, match="restored and cannot become cancelled"):
        cancel(session, incident_id, reason="too late")


def test_restoration_within_five_minutes_is_momentary(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=10)
    incident_id = open_on(session, places.fuses[0], started_at=started)
    restore(session, incident_id, at=started + timedelta(minutes=4), reason="recloser closed")
    incident = get_incident(session, incident_id)
    assert (incident.status, incident.momentary) == (S.RESTORED, True)
    assert incident.restored_at == started + timedelta(minutes=4)


def test_restoration_after_five_minutes_is_sustained(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=40)
    incident_id = open_on(session, places.fuses[0], started_at=started)
    restore(session, incident_id, at=started + timedelta(minutes=35), reason="meters")
    incident = get_incident(session, incident_id)
    assert incident.momentary is False
    assert incident.customers_restored == incident.customers_affected


def test_restoration_before_the_start_is_refused(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=10)
    incident_id = open_on(session, places.fuses[0], started_at=started)
    with pytest.raises(InvalidIncidentValue, match="before incident"):
        restore(session, incident_id, at=started - timedelta(minutes=1), reason="x")


def test_nested_incident_hangs_under_its_parent(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    parent = open_on(session, places.head, customers_affected=400)
    child = open_nested(
        session,
        parent,
        device_asset_ref=places.fuse_below_head,
        confidence=0.8,
        customers_affected=10,
        reason="still out after the breaker closed",
    )
    nested = get_incident(session, child)
    assert nested.parent_id == parent
    assert nested.started_at == get_incident(session, parent).started_at
    assert get_incident(session, parent).nested == [child]


def test_outage_left_after_a_restoration_nests_in_the_restored_incident(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    parent = open_on(session, places.head, customers_affected=400)
    restore(session, parent, at=datetime.now(UTC), reason="breaker closed")
    child = open_nested(
        session,
        parent,
        device_asset_ref=places.fuse_below_head,
        confidence=0.8,
        customers_affected=10,
        reason="still out after the breaker closed",
    )
    assert get_incident(session, child).parent_id == parent


def test_nothing_nests_in_a_cancelled_incident(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    parent = open_on(session, places.head)
    cancel(session, parent, reason="noise")
    with pytest.raises(IncidentConflict, match="cancelled"):
        open_nested(
            session,
            parent,
            device_asset_ref=places.fuse_below_head,
            confidence=0.8,
            customers_affected=10,
            reason="still out",
        )


def test_parent_with_an_active_nested_incident_cannot_close(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    parent = open_on(session, places.head, customers_affected=400)
    open_nested(
        session,
        parent,
        device_asset_ref=places.fuse_below_head,
        confidence=0.8,
        customers_affected=10,
        reason="still out",
    )
    restore(session, parent, at=datetime.now(UTC), reason="breaker closed")
    _act(session, parent, "set_cause", cause="tree contact")
    with pytest.raises(IncidentConflict, match="nested"):
        _act(session, parent, "close")


def test_active_incidents_leave_out_restored_ones(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    active = open_on(session, places.fuses[0])
    restored = open_on(session, places.fuses[2])
    restore(session, restored, at=datetime.now(UTC), reason="meters back")
    ids = {i.id for i in active_incidents(session)}
    assert active in ids
    assert restored not in ids


def test_active_single_service_incident_names_the_customers_account(
    session: Session, places: Places
) -> None:
    account = places.accounts[5]
    incident_id = open_incident(
        session,
        account=account,
        confidence=0.5,
        customers_affected=1,
        started_at=datetime.now(UTC),
        reason="lone call",
    )
    [found] = [i for i in active_incidents(session) if i.id == incident_id]
    assert found.accounts == (account,)
    assert found.device is None


def test_predicted_etr_does_not_replace_the_dispatchers(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    said = datetime.now(UTC) + timedelta(hours=2)
    set_etr(session, incident_id, etr=said, source=EtrSource.DISPATCHER, actor="d-1")
    changed = set_etr(session, incident_id, etr=said + timedelta(hours=1))
    incident = get_incident(session, incident_id)
    assert not changed
    assert (incident.etr, incident.etr_source) == (said, EtrSource.DISPATCHER)


def test_predicted_etr_takes_over_once_the_dispatchers_has_passed(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    lapsed = datetime.now(UTC) - timedelta(minutes=1)
    set_etr(session, incident_id, etr=lapsed, source=EtrSource.DISPATCHER, actor="d-1")
    estimate = datetime.now(UTC) + timedelta(hours=1)
    changed = set_etr(session, incident_id, etr=estimate)
    incident = get_incident(session, incident_id)
    assert changed
    assert (incident.etr, incident.etr_source) == (estimate, EtrSource.PREDICTED)


def test_every_action_writes_an_audit_row_with_the_actor(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    for action, fields in [
        (Action.CONFIRM, {}),
        (Action.ASSIGN, {"crew_id": make_crew(session)}),
        (Action.EN_ROUTE, {}),
        (Action.ON_SITE, {}),
        (Action.SET_CAUSE, {"cause": "fuse blown by a squirrel"}),
        (Action.RESTORED, {}),
        (Action.CLOSE, {}),
    ]:
        _act(session, incident_id, action.value, **fields)
    events = _events(session, incident_id)[1:]
    assert [e.actor for e in events] == ["dispatcher-1"] * 7
    assert events[-1].to_status is S.CLOSED
