"""The incidents' changes as the prediction engine makes them, on the sample grid (rolled
back): opening, updating, merging, nesting, cancelling, restoring, and its ETRs."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.etr import EtrSource
from outage.incidents.changes import (
    EtrSetting,
    Merging,
    Opening,
    PredictionUpdate,
    cancel,
    confirm,
    merge_incidents,
    merge_many,
    open_incident,
    open_incidents,
    open_nested,
    restore,
    set_etr,
    set_etrs,
    update_prediction,
    update_predictions,
)
from outage.incidents.enums import AuditAction, IncidentKind
from outage.incidents.errors import (
    EtrOutOfRange,
    IncidentConflict,
    InvalidIncidentValue,
    UnknownAsset,
)
from outage.incidents.evidence import EvidenceRef
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import IncidentEvidence
from outage.incidents.queries import get_incident
from outage.intake.enums import Hazard
from outage.outbox.models import NotificationEvent
from tests.conftest import make_crew

from .conftest import Places, act, events_of, statements

OpenOn = Callable[..., int]
S = IncidentStatus


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
    [event] = events_of(session, incident_id)
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


def _opening(**place: str) -> Opening:
    started = datetime.now(UTC) - timedelta(minutes=30)
    return Opening(
        confidence=0.7, customers_affected=20, started_at=started, reason="calls", **place
    )


def test_opened_at_once_each_incident_is_on_its_own_place_in_order(
    session: Session, places: Places
) -> None:
    fuse, other, account = places.fuses[0], places.fuses[-1], places.accounts[3]
    openings = [
        _opening(device_asset_ref=fuse),
        _opening(account=account),
        _opening(device_asset_ref=other),
    ]
    first, second, third = (get_incident(session, i) for i in open_incidents(session, openings))
    assert first.device is not None and first.device.asset_ref == fuse
    assert second.device is None and second.premise is not None
    assert third.device is not None and third.device.asset_ref == other
    assert (first.feeder, third.feeder) == (places.feeder_of[fuse], places.feeder_of[other])


def test_opened_at_once_an_incident_is_audited_and_told_as_when_opened_alone(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    fuse, other = places.fuses[0], places.fuses[-1]
    alone = open_on(session, fuse, reason="calls")
    (together,) = open_incidents(session, [_opening(device_asset_ref=other)])
    audits = [events_of(session, i)[0].details for i in (alone, together)]
    assert audits[0] | {"device": other} == audits[1]
    told = {
        e.incident_id: e.details
        for e in session.scalars(
            select(NotificationEvent).where(NotificationEvent.incident_id.in_([alone, together]))
        )
    }
    assert told == {
        alone: {"area": places.feeder_of[fuse]},
        together: {"area": places.feeder_of[other]},
    }


def test_opening_at_once_on_an_unknown_device_is_refused(session: Session) -> None:
    with pytest.raises(UnknownAsset, match="no device"):
        open_incidents(session, [_opening(device_asset_ref="no such fuse")])


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
    assert len(events_of(session, incident_id)) == 1
    assert get_incident(session, incident_id).version == 1


def _storm_update(incident_id: int, report_id: int, *, to: str | None = None) -> PredictionUpdate:
    return PredictionUpdate(
        incident_id,
        "more calls",
        device_asset_ref=to,
        confidence=0.95,
        customers_affected=30,
        add_evidence=[EvidenceRef.report(report_id)],
    )


def _statements_to_update(
    session: Session,
    places: Places,
    open_on: OpenOn,
    add_report: Callable[[Session], int],
    incidents: int,
) -> int:
    staying = [open_on(session, places.fuses[0]) for _ in range(incidents)]
    moving = [open_on(session, places.fuses[2]) for _ in range(incidents)]
    updates = [_storm_update(i, add_report(session)) for i in staying]
    updates += [_storm_update(i, add_report(session), to=places.fuses[3]) for i in moving]
    with statements(session) as seen:
        done = update_predictions(session, updates)
        session.flush()
    assert done.changed == {*staying, *moving}
    return len(seen)


def test_many_incidents_are_updated_in_as_many_statements_as_one(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    """A storm's cycle updates hundreds of incidents: one by one, each cost about eight
    round trips on a busy database."""
    one = _statements_to_update(session, places, open_on, add_report, incidents=1)
    many = _statements_to_update(session, places, open_on, add_report, incidents=6)
    assert many == one


def test_updates_write_each_incidents_figures_evidence_and_audit(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    first, second = open_on(session, places.fuses[0]), open_on(session, places.fuses[2])
    reports = [add_report(session) for _ in range(2)]
    update_predictions(
        session,
        [
            _storm_update(first, reports[0]),
            _storm_update(second, reports[1], to=places.fuses[3]),
        ],
    )
    kept, moved = get_incident(session, first), get_incident(session, second)
    assert (kept.confidence, kept.customers_affected, kept.version) == (0.95, 30, 2)
    assert (moved.device and moved.device.asset_ref, moved.version) == (places.fuses[3], 2)
    assert [e.action for e in moved.events[1:]] == [AuditAction.MOVED, AuditAction.UPDATED]
    assert moved.events[-1].details["evidence_added"] == {"report": [reports[1]]}
    assert [r.id for r in kept.reports] == [reports[0]]


def test_an_incident_no_longer_active_is_left_as_it_is_and_the_others_are_updated(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    gone, fine = open_on(session, places.fuses[0]), open_on(session, places.fuses[2])
    cancel(session, gone, actor="dispatcher", reason="nothing found")
    done = update_predictions(
        session,
        [
            _storm_update(gone, add_report(session)),
            _storm_update(fine, add_report(session)),
        ],
    )
    assert (done.changed, set(done.left)) == ({fine}, {gone})
    assert isinstance(done.left[gone], IncidentConflict)
    assert get_incident(session, gone).evidence.reports == 0


def test_a_predicted_place_a_crew_works_on_is_not_moved_by_an_update(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    worked = open_on(session, places.fuses[0])
    confirm(session, worked, actor="dispatcher", reason="SCADA says so")
    done = update_predictions(
        session, [_storm_update(worked, add_report(session), to=places.fuses[3])]
    )
    assert set(done.left) == {worked}
    found = get_incident(session, worked)
    assert found.device is not None and found.device.asset_ref == places.fuses[0]


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


def _nest(session: Session, parent: int, device: str) -> int:
    return open_nested(
        session,
        parent,
        device_asset_ref=device,
        confidence=0.8,
        customers_affected=10,
        reason="still out after the parent's restoration",
    )


def test_merge_moves_nested_incidents_to_the_one_kept(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    keep, merged = open_on(session, places.fuses[0]), open_on(session, places.head)
    child = _nest(session, merged, places.fuse_below_head)
    merge_incidents(session, keep, merged, reason="the same outage")
    assert get_incident(session, child).parent_id == keep


def test_merging_an_incident_with_a_crew_is_refused(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    keep, merged = open_on(session, places.fuses[0]), open_on(session, places.fuses[2])
    crew = make_crew(session)
    act(session, merged, "assign", crew_id=crew)
    with pytest.raises(IncidentConflict, match=f"crew {crew}"):
        merge_incidents(session, keep, merged, reason="one fault upstream")


def _statements_to_merge(
    session: Session,
    places: Places,
    open_on: OpenOn,
    add_report: Callable[[Session], int],
    pairs: int,
) -> int:
    merges = []
    for _ in range(pairs):
        keep, merged = open_on(session, places.fuses[0]), open_on(session, places.fuses[2])
        update_prediction(
            session, merged, add_evidence=[EvidenceRef.report(add_report(session))], reason="a"
        )
        merges.append(Merging(keep, merged, "one fault upstream"))
    with statements(session) as seen:
        assert merge_many(session, merges) == {}
        session.flush()
    return len(seen)


def test_many_merges_take_as_many_statements_as_one(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    """A storm's cycle merges a hundred incidents as its evidence gathers."""
    one = _statements_to_merge(session, places, open_on, add_report, 1)
    many = _statements_to_merge(session, places, open_on, add_report, 5)
    assert many == one


def test_merges_made_together_move_each_ones_evidence_to_its_keep(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    pairs = [(open_on(session, places.fuses[0]), open_on(session, places.fuses[2])) for _ in "ab"]
    reports = {}
    for _, merged in pairs:
        reports[merged] = add_report(session)
        update_prediction(
            session, merged, add_evidence=[EvidenceRef.report(reports[merged])], reason="a"
        )
    merge_many(session, [Merging(keep, merged, "one fault") for keep, merged in pairs])
    for keep, merged in pairs:
        kept = get_incident(session, keep)
        assert [r.id for r in kept.reports] == [reports[merged]]
        assert kept.events[-1].details["evidence"]["reports"] == 1
        gone = get_incident(session, merged)
        assert (gone.status, gone.merged_into_id) == (S.CANCELLED, keep)


def test_a_merge_that_does_not_fit_is_left_and_the_others_are_made(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    keep, crewed, other = (open_on(session, places.fuses[i]) for i in (0, 2, 3))
    act(session, crewed, "assign", crew_id=make_crew(session))
    left = merge_many(
        session, [Merging(keep, crewed, "one fault"), Merging(keep, other, "one fault")]
    )
    assert set(left) == {crewed}
    assert get_incident(session, crewed).status is S.DISPATCHED
    assert get_incident(session, other).merged_into_id == keep


def test_an_incident_kept_in_one_merge_is_not_merged_away_in_the_same_batch(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    first, second, third = (open_on(session, places.fuses[i]) for i in (0, 2, 3))
    left = merge_many(
        session, [Merging(first, second, "one fault"), Merging(third, first, "one fault")]
    )
    assert set(left) == {first}
    assert get_incident(session, first).status is S.PREDICTED


def test_a_keep_nested_in_the_incident_it_takes_in_takes_that_ones_parent(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    grandparent = open_on(session, places.fuses[0])
    parent = _nest(session, grandparent, places.head)
    child = _nest(session, parent, places.fuse_below_head)
    merge_incidents(session, child, parent, reason="the same outage")
    assert get_incident(session, child).parent_id == grandparent


def test_cancel_is_audited_with_actor_and_reason(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    cancel(session, incident_id, actor="engine", reason="the calls were noise")
    event = events_of(session, incident_id)[-1]
    assert (event.action, event.actor, event.reason) == (
        AuditAction.CANCELLED,
        "engine",
        "the calls were noise",
    )
    assert (event.from_status, event.to_status) == (S.PREDICTED, S.CANCELLED)


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


def _estimate(incident_id: int, hours: float) -> EtrSetting:
    expected = datetime.now(UTC) + timedelta(hours=hours)
    likely = (expected - timedelta(minutes=30), expected + timedelta(minutes=45))
    return EtrSetting(incident_id, expected, likely=likely, reason="estimated by the plan")


def _statements_to_set_etrs(session: Session, places: Places, open_on: OpenOn, n: int) -> int:
    first = [open_on(session, places.fuses[0]) for _ in range(n)]
    again = [open_on(session, places.fuses[2]) for _ in range(n)]
    set_etrs(session, [_estimate(i, 1) for i in again], actor="planner")
    session.flush()
    with statements(session) as seen:
        done = set_etrs(session, [_estimate(i, 2) for i in first + again], actor="planner")
        session.flush()
    assert done.changed == {*first, *again}
    return len(seen)


def test_many_etrs_are_set_in_as_many_statements_as_one(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    """A storm's plan sets hundreds of ETRs while it holds their incidents locked."""
    one = _statements_to_set_etrs(session, places, open_on, 1)
    many = _statements_to_set_etrs(session, places, open_on, 6)
    assert many == one


def test_etrs_set_together_are_audited_and_told_as_one_by_one(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    new, known = open_on(session, places.fuses[0]), open_on(session, places.fuses[2])
    set_etr(session, known, etr=datetime.now(UTC) + timedelta(hours=1))
    wanted = [_estimate(new, 2), _estimate(known, 3)]
    set_etrs(session, wanted, actor="planner")
    for setting, kind in zip(wanted, ["etr_set", "etr_changed"], strict=True):
        incident = get_incident(session, setting.incident_id)
        assert setting.likely is not None
        assert (incident.etr, incident.etr_earliest, incident.etr_latest) == (
            setting.etr,
            *setting.likely,
        )
        assert (incident.events[-1].action, incident.events[-1].actor) == (
            AuditAction.ETR_SET,
            "planner",
        )
        told = session.scalars(
            select(NotificationEvent.kind)
            .where(NotificationEvent.incident_id == setting.incident_id)
            .order_by(NotificationEvent.id.desc())
        ).first()
        assert told == kind


def test_an_etr_that_no_longer_fits_is_left_and_the_others_are_set(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    gone, early, fine = (open_on(session, places.fuses[i]) for i in (0, 2, 3))
    cancel(session, gone, actor="dispatcher", reason="nothing found")
    before_start = EtrSetting(early, datetime.now(UTC) - timedelta(hours=2))
    done = set_etrs(
        session, [_estimate(gone, 2), before_start, _estimate(fine, 2)], actor="planner"
    )
    assert (done.changed, set(done.left)) == ({fine}, {gone, early})
    assert isinstance(done.left[gone], IncidentConflict)
    assert isinstance(done.left[early], EtrOutOfRange)
    assert get_incident(session, early).etr is None
