"""The prediction engine's changes to incidents, with an audit row per change.

`open_incident` (`open_incidents` for many), `open_nested`, `update_prediction`
(`update_predictions` for many),
`merge_incidents`, `confirm`, `cancel`, `restore`, `set_etr`; they name places the way the
inference does (device asset_ref, customer account). The crew planner sets ETRs here too.

Every function takes the session and plain values and never commits: the caller owns the
transaction, so a change, its audit row and (later) the notifications it implies commit
together. Functions that change an incident lock its row first (`SELECT ... FOR NO KEY
UPDATE`), so the engine and a dispatcher acting at once are serialised rather than lost.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, all_, any_, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from dispatch.etr import EtrSource, needs_reestimate
from grid_topology.topology import Topology
from outage import clock
from outage.incidents.enums import AuditAction, IncidentKind
from outage.incidents.errors import EtrOutOfRange, IncidentConflict, InvalidIncidentValue
from outage.incidents.evidence import (
    EvidenceRef,
    _add_evidence,
    _add_evidence_to_many,
    _remove_evidence,
)
from outage.incidents.lifecycle import IncidentStatus, check_transition, is_momentary
from outage.incidents.models import Incident, IncidentEvidence
from outage.incidents.outbox import areas_of, incident_event
from outage.incidents.recorded import record_incident, record_incidents
from outage.incidents.steps import (
    _audit,
    _aware,
    _check_figures,
    _checked_time,
    _labels,
    _load,
    _load_many,
    _move,
    _moves_to,
    _Place,
    _place,
    _places,
    _require_active,
    _touch,
    _write_columns,
)
from outage.incidents.verification import configured_verification, verify_restoration
from outage.intake.closing import close_reports
from outage.intake.enums import Hazard
from outage.intake.models import Report
from outage.moments import ETR_HORIZON
from outage.outbox.enums import EventKind
from outage.storms.enums import EtrScope

ENGINE = "engine"
"""The actor the prediction engine writes in the audit trail."""


def _open(
    session: Session,
    *,
    kind: IncidentKind,
    place: _Place,
    confidence: float,
    customers_affected: int,
    started_at: datetime,
    evidence: Iterable[EvidenceRef],
    hazard: Hazard | None,
    parent_id: int | None,
    actor: str,
    reason: str,
) -> Incident:
    incident = _new_incident(
        kind, place, confidence, customers_affected, started_at, hazard, parent_id
    )
    session.add(incident)
    session.flush()
    added = _add_evidence(session, incident.id, evidence)
    _opened(session, incident, place, added, actor=actor, reason=reason)
    return incident


@dataclass(frozen=True)
class Opening:
    """One predicted outage to open with `open_incidents`, its place named as for
    `open_incident`."""

    confidence: float
    customers_affected: int
    started_at: datetime
    reason: str
    device_asset_ref: str | None = None
    account: str | None = None
    evidence: Sequence[EvidenceRef] = ()


def open_incidents(
    session: Session, openings: Sequence[Opening], *, actor: str = ENGINE
) -> list[int]:
    """Open predicted outages at once and return their ids, in order: a storm's cycle opens
    hundreds, which one by one cost a dozen round trips each."""
    if not openings:
        return []
    places = _places(session, [(o.device_asset_ref, o.account) for o in openings])
    incidents = [
        _new_incident(
            IncidentKind.OUTAGE,
            place,
            opening.confidence,
            opening.customers_affected,
            opening.started_at,
            None,
            None,
        )
        for opening, place in zip(openings, places, strict=True)
    ]
    session.add_all(incidents)
    session.flush()
    added = _add_evidence_to_many(
        session, {i.id: o.evidence for i, o in zip(incidents, openings, strict=True)}
    )
    areas = areas_of(session, incidents)
    for incident, opening, place in zip(incidents, openings, places, strict=True):
        found = added.get(incident.id, {})
        _opened(session, incident, place, found, actor=actor, reason=opening.reason, areas=areas)
    return [incident.id for incident in incidents]


def _new_incident(
    kind: IncidentKind,
    place: _Place,
    confidence: float,
    customers_affected: int,
    started_at: datetime,
    hazard: Hazard | None,
    parent_id: int | None,
) -> Incident:
    _aware(started_at, "started_at")
    _check_figures(confidence, customers_affected)
    if kind is IncidentKind.HAZARD and hazard is None:
        raise InvalidIncidentValue("a hazard incident needs its hazard (wires_down, fire, ...)")
    return Incident(
        kind=kind,
        status=IncidentStatus.PREDICTED,
        device_id=place.device_id,
        premise_id=place.premise_id,
        feeder_id=place.feeder_id,
        hazard=hazard,
        confidence=confidence,
        customers_affected=customers_affected,
        customers_restored=0,
        started_at=started_at,
        momentary=False,
        parent_id=parent_id,
    )


def _opened(
    session: Session,
    incident: Incident,
    place: _Place,
    evidence: dict[str, list[int]],
    *,
    actor: str,
    reason: str,
    areas: Mapping[int, str | None] | None = None,
) -> None:
    """The audit row and the outbox event of an incident just opened."""
    hazard = incident.hazard
    _audit(
        session,
        incident,
        AuditAction.OPENED,
        actor=actor,
        reason=reason,
        to_status=IncidentStatus.PREDICTED,
        details={
            **place.label,
            "kind": incident.kind.value,
            "confidence": incident.confidence,
            "customers_affected": incident.customers_affected,
            "evidence": evidence,
            **({"hazard": hazard.value} if hazard else {}),
            **({"parent_id": incident.parent_id} if incident.parent_id else {}),
        },
    )
    incident_event(session, incident, EventKind.OUTAGE_DETECTED, areas=areas)


def open_incident(
    session: Session,
    *,
    kind: IncidentKind = IncidentKind.OUTAGE,
    device_asset_ref: str | None = None,
    account: str | None = None,
    confidence: float,
    customers_affected: int,
    started_at: datetime,
    evidence: Iterable[EvidenceRef] = (),
    feeder: str | None = None,
    hazard: Hazard | None = None,
    actor: str = ENGINE,
    reason: str,
) -> int:
    """Open a predicted incident and return its id.

    Name the place as the inference does: `device_asset_ref` for a device, `account` for a
    single-service outage (the customer's premise), neither for a hazard not placed yet.
    The feeder follows from the place; give `feeder` (a name) only to say otherwise.
    """
    place = _place(session, device_asset_ref, account, feeder)
    incident = _open(
        session,
        kind=kind,
        place=place,
        confidence=confidence,
        customers_affected=customers_affected,
        started_at=started_at,
        evidence=evidence,
        hazard=hazard,
        parent_id=None,
        actor=actor,
        reason=reason,
    )
    return incident.id


def open_nested(
    session: Session,
    parent_id: int,
    *,
    device_asset_ref: str | None = None,
    account: str | None = None,
    confidence: float,
    customers_affected: int,
    started_at: datetime | None = None,
    evidence: Iterable[EvidenceRef] = (),
    actor: str = ENGINE,
    reason: str,
) -> int:
    """Open an outage nested in an active incident and return its id.

    A nested outage is a fault below the parent's device whose customers stay out when the
    parent is restored, so the parent may be active or already restored (or closed), but
    not cancelled. It starts with the parent unless `started_at` says otherwise.
    """
    parent = _load(session, parent_id)
    if parent.status is IncidentStatus.CANCELLED:
        raise IncidentConflict(f"incident {parent.id} is cancelled: nothing can nest in it")
    place = _place(session, device_asset_ref, account, None)
    child = _open(
        session,
        kind=IncidentKind.OUTAGE,
        place=place,
        confidence=confidence,
        customers_affected=customers_affected,
        started_at=started_at or parent.started_at,
        evidence=evidence,
        hazard=None,
        parent_id=parent.id,
        actor=actor,
        reason=reason,
    )
    _touch(parent)
    _audit(
        session,
        parent,
        AuditAction.NESTED,
        actor=actor,
        reason=reason,
        details={"nested": child.id},
    )
    return child.id


@dataclass(frozen=True)
class PredictionUpdate:
    """One active incident's newest prediction, for `update_predictions`: None leaves a value
    as it is; a place is named as for `open_incident`."""

    incident_id: int
    reason: str
    device_asset_ref: str | None = None
    account: str | None = None
    confidence: float | None = None
    customers_affected: int | None = None
    add_evidence: Sequence[EvidenceRef] = ()
    remove_evidence: Sequence[EvidenceRef] = ()


@dataclass(frozen=True)
class UpdatedPredictions:
    changed: frozenset[int]
    """The incidents something was written for."""
    left: Mapping[int, IncidentConflict]
    """The incidents whose update no longer fits them, each with why: left as they are."""


def update_prediction(
    session: Session,
    incident_id: int,
    *,
    device_asset_ref: str | None = None,
    account: str | None = None,
    confidence: float | None = None,
    customers_affected: int | None = None,
    add_evidence: Iterable[EvidenceRef] = (),
    remove_evidence: Iterable[EvidenceRef] = (),
    actor: str = ENGINE,
    reason: str,
) -> bool:
    """Bring an active incident in line with the newest prediction; None leaves a value as is.

    Naming another device (or account) moves the incident: allowed only while it is
    `predicted`, since after that a person has acted on the place. Sending the same values
    again changes nothing and writes nothing; the answer says whether anything changed.
    """
    update = PredictionUpdate(
        incident_id,
        reason,
        device_asset_ref=device_asset_ref,
        account=account,
        confidence=confidence,
        customers_affected=customers_affected,
        add_evidence=tuple(add_evidence),
        remove_evidence=tuple(remove_evidence),
    )
    done = update_predictions(session, [update], actor=actor)
    if incident_id in done.left:
        raise done.left[incident_id]
    return incident_id in done.changed


def update_predictions(
    session: Session, updates: Sequence[PredictionUpdate], *, actor: str = ENGINE
) -> UpdatedPredictions:
    """`update_prediction` of many incidents in a few statements, whatever their number: a
    storm's cycle updates hundreds, which one by one took minutes on a busy database.

    An incident whose update no longer fits it (no longer active, or moved while a person
    has acted on its place) is left as it is and named in the answer; the others stand.
    """
    for asked in updates:
        _check_figures(asked.confidence, asked.customers_affected)
    incidents = _load_many(session, [u.incident_id for u in updates])
    named = [u for u in updates if u.device_asset_ref is not None or u.account is not None]
    places = dict(
        zip(
            (u.incident_id for u in named),
            _places(session, [(u.device_asset_ref, u.account) for u in named]),
            strict=True,
        )
    )
    left: dict[int, IncidentConflict] = {}
    fitting: list[PredictionUpdate] = []
    moves: dict[int, _Place] = {}
    for asked in updates:
        incident = incidents[asked.incident_id]
        place = places.get(asked.incident_id)
        try:
            _require_active(incident, "update its prediction")
            if place is not None and _moves_to(incident, place):
                moves[incident.id] = place
        except IncidentConflict as conflict:
            left[incident.id] = conflict
            continue
        fitting.append(asked)
    added = _add_evidence_to_many(session, {u.incident_id: u.add_evidence for u in fitting})
    before = _labels(session, [incidents[i] for i in moves])
    rows: list[_Row] = []
    for asked in fitting:
        incident = incidents[asked.incident_id]
        place = moves.get(incident.id)
        if place is not None:
            _audit(
                session,
                incident,
                AuditAction.MOVED,
                actor=actor,
                reason=asked.reason,
                details={"from": before[incident.id], "to": place.label},
            )
        details = _figures_changed(incident, asked)
        if found := added.get(incident.id):
            details["evidence_added"] = found
        if asked.remove_evidence and (
            removed := _remove_evidence(session, incident.id, asked.remove_evidence)
        ):
            details["evidence_removed"] = removed
        if details:
            _audit(
                session,
                incident,
                AuditAction.UPDATED,
                actor=actor,
                reason=asked.reason,
                details=details,
            )
        if place is not None or details:
            rows.append(_Row.of(incident, asked, place))
    _write_rows(session, rows)
    moved = [incidents[incident_id] for incident_id in moves]
    areas = areas_of(session, moved)
    for incident in moved:
        incident_event(session, incident, EventKind.OUTAGE_DETECTED, areas=areas)
    return UpdatedPredictions(changed=frozenset(row.id for row in rows), left=left)


def _figures_changed(incident: Incident, asked: PredictionUpdate) -> dict[str, Any]:
    """The audit trail's [before, after] of each figure the update changes."""
    details: dict[str, Any] = {}
    if asked.confidence is not None and asked.confidence != incident.confidence:
        details["confidence"] = [incident.confidence, asked.confidence]
    affected = asked.customers_affected
    if affected is not None and affected != incident.customers_affected:
        details["customers_affected"] = [incident.customers_affected, affected]
    return details


@dataclass(frozen=True)
class _Row:
    """An incident's place and figures as an update leaves them."""

    id: int
    device_id: int | None
    premise_id: int | None
    feeder_id: int | None
    confidence: float
    customers_affected: int
    customers_restored: int

    @classmethod
    def of(cls, incident: Incident, asked: PredictionUpdate, place: _Place | None) -> "_Row":
        affected = (
            incident.customers_affected
            if asked.customers_affected is None
            else asked.customers_affected
        )
        return cls(
            id=incident.id,
            device_id=incident.device_id if place is None else place.device_id,
            premise_id=incident.premise_id if place is None else place.premise_id,
            feeder_id=incident.feeder_id if place is None else place.feeder_id,
            confidence=incident.confidence if asked.confidence is None else asked.confidence,
            customers_affected=affected,
            customers_restored=min(incident.customers_restored, affected),
        )


def _write_rows(session: Session, rows: Sequence[_Row]) -> None:
    _write_columns(
        session,
        [r.id for r in rows],
        {
            "device_id": [r.device_id for r in rows],
            "premise_id": [r.premise_id for r in rows],
            "feeder_id": [r.feeder_id for r in rows],
            "confidence": [r.confidence for r in rows],
            "customers_affected": [r.customers_affected for r in rows],
            "customers_restored": [r.customers_restored for r in rows],
        },
    )


@dataclass(frozen=True)
class Merging:
    """One incident to fold into another, for `merge_many`."""

    keep_id: int
    merged_id: int
    reason: str


def merge_incidents(
    session: Session, keep_id: int, merged_id: int, *, actor: str = ENGINE, reason: str
) -> None:
    """Fold one incident into another, which the engine found to be the same outage.

    The evidence, reports and nested incidents of `merged_id` move to `keep_id`, which
    starts at the earlier of the two starts; `merged_id` is cancelled, pointing to `keep_id`.
    Its crew, if any, must be unassigned first.
    """
    left = merge_many(session, [Merging(keep_id, merged_id, reason)], actor=actor)
    if merged_id in left:
        raise left[merged_id]


def merge_many(
    session: Session, merges: Sequence[Merging], *, actor: str = ENGINE
) -> dict[int, IncidentConflict]:
    """`merge_incidents` of many pairs in a few statements, whatever their number: a
    storm's cycle merges a hundred incidents as the evidence gathers, which one by one cost
    about fifteen round trips each. A merge that does not fit (either incident no longer
    active, a crew on the one to merge, an incident already merged or kept in this batch)
    is left and named in the answer, by the incident that was to be merged."""
    locked = _load_many(session, [i for m in merges for i in (m.keep_id, m.merged_id)])
    into: dict[int, int] = {}
    left: dict[int, IncidentConflict] = {}
    made: list[Merging] = []
    for merging in merges:
        try:
            _check_merge(locked[merging.keep_id], locked[merging.merged_id], into)
        except IncidentConflict as conflict:
            left[merging.merged_id] = conflict
            continue
        into[merging.merged_id] = merging.keep_id
        made.append(merging)
    if not made:
        return left
    keeps = {m.keep_id for m in made}
    carried = _evidence_counts(session, list(into))
    _carry_over(session, into, sorted(keeps | set(into)))
    parents = {i: _parent_after(locked[i], into, locked) for i in keeps}
    starts = {keep: locked[keep].started_at for keep in parents}
    for merging in made:
        starts[merging.keep_id] = min(starts[merging.keep_id], locked[merging.merged_id].started_at)
    was = {merged: locked[merged].status for merged in into}
    _write_columns(
        session,
        list(parents),
        {"parent_id": list(parents.values()), "started_at": [starts[k] for k in parents]},
    )
    _write_columns(
        session,
        list(into),
        {
            "status": [IncidentStatus.CANCELLED] * len(into),
            "merged_into_id": list(into.values()),
            "parent_id": [_parent_after(locked[m], into, locked) for m in into],
        },
    )
    for merging in made:
        keep, merged = locked[merging.keep_id], locked[merging.merged_id]
        _audit(
            session,
            merged,
            AuditAction.MERGED,
            actor=actor,
            reason=merging.reason,
            from_status=was[merged.id],
            to_status=IncidentStatus.CANCELLED,
            details={"into": keep.id},
        )
        reports, meter_events, scada_events = carried.get(merged.id, (0, 0, 0))
        _audit(
            session,
            keep,
            AuditAction.ABSORBED,
            actor=actor,
            reason=merging.reason,
            details={
                "merged": merged.id,
                "evidence": {
                    "reports": reports,
                    "meter_events": meter_events,
                    "scada_events": scada_events,
                },
            },
        )
    record_incidents(session, [*into, *parents])
    return left


def _check_merge(keep: Incident, merged: Incident, into: Mapping[int, int]) -> None:
    if keep.id == merged.id:
        raise IncidentConflict(f"incident {keep.id} cannot be merged into itself")
    for incident in (keep, merged):
        if incident.id in into:
            raise IncidentConflict(
                f"incident {incident.id} is merged into {into[incident.id]} already"
            )
    if merged.id in into.values():
        raise IncidentConflict(f"incident {merged.id} takes in another incident here")
    _require_active(keep, "take in another incident")
    _require_active(merged, "be merged")
    if merged.crew_id is not None:
        raise IncidentConflict(
            f"incident {merged.id} has crew {merged.crew_id} assigned: unassign it before merging"
        )
    check_transition(merged.status, IncidentStatus.CANCELLED, merged.id)


def _parent_after(
    incident: Incident, into: Mapping[int, int], locked: Mapping[int, Incident]
) -> int | None:
    """The incident's parent once the merges are made: a merged parent's keep, or, for the
    keep nested in the incident it takes in, that one's parent."""
    parent, seen = incident.parent_id, set()
    while parent is not None and parent in into and parent not in seen:
        seen.add(parent)
        parent = locked[parent].parent_id if into[parent] == incident.id else into[parent]
    return parent


def _evidence_counts(session: Session, merged: list[int]) -> dict[int, tuple[int, int, int]]:
    """Incident -> how many reports, meter events and SCADA events it holds."""
    rows = session.execute(
        select(
            IncidentEvidence.incident_id,
            func.count(IncidentEvidence.report_id),
            func.count(IncidentEvidence.meter_event_id),
            func.count(IncidentEvidence.scada_event_id),
        )
        .where(IncidentEvidence.incident_id == any_(literal(merged, ARRAY(Integer))))
        .group_by(IncidentEvidence.incident_id)
    )
    return {incident: (reports, meters, scada) for incident, reports, meters, scada in rows}


def _carry_over(session: Session, into: Mapping[int, int], batch: list[int]) -> None:
    """The evidence, reports and nested incidents (but those of this batch, which the
    caller writes) of each merged incident move to the one kept."""
    pairs = (
        func.unnest(
            literal(list(into), ARRAY(Integer)), literal(list(into.values()), ARRAY(Integer))
        )
        .table_valued("merged", "keep")
        .render_derived()
    )
    session.execute(
        insert(IncidentEvidence)
        .from_select(
            ["incident_id", "report_id", "meter_event_id", "scada_event_id", "added_at"],
            select(
                pairs.c.keep,
                IncidentEvidence.report_id,
                IncidentEvidence.meter_event_id,
                IncidentEvidence.scada_event_id,
                IncidentEvidence.added_at,
            ).join(pairs, IncidentEvidence.incident_id == pairs.c.merged),
        )
        .on_conflict_do_nothing()
    )
    merged = literal(list(into), ARRAY(Integer))
    session.execute(delete(IncidentEvidence).where(IncidentEvidence.incident_id == any_(merged)))
    session.execute(
        update(Report)
        .where(Report.incident_id == pairs.c.merged)
        .values(incident_id=pairs.c.keep)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(Incident)
        .where(
            Incident.parent_id == pairs.c.merged,
            Incident.id != all_(literal(batch, ARRAY(Integer))),
        )
        .values(parent_id=pairs.c.keep, version=Incident.version + 1, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


def confirm(session: Session, incident_id: int, *, actor: str = ENGINE, reason: str) -> None:
    """SCADA, a meter read or a person confirmed the device: confidence becomes 1."""
    _confirm(session, _load(session, incident_id), actor=actor, reason=reason)


def _confirm(session: Session, incident: Incident, *, actor: str, reason: str | None) -> None:
    _move(
        session,
        incident,
        IncidentStatus.CONFIRMED,
        AuditAction.CONFIRMED,
        actor=actor,
        reason=reason,
    )
    incident.confidence = 1.0


def cancel(session: Session, incident_id: int, *, actor: str = ENGINE, reason: str) -> None:
    """There was no such outage. Its reports keep pointing to it, as history, and close:
    their customers hear that we found no outage on our side."""
    _cancel(session, _load(session, incident_id), actor=actor, reason=reason)


def _cancel(session: Session, incident: Incident, *, actor: str, reason: str | None) -> None:
    _move(
        session,
        incident,
        IncidentStatus.CANCELLED,
        AuditAction.CANCELLED,
        actor=actor,
        reason=reason,
    )
    close_reports(session, incident.id, _checked_time(incident, None, "cancellation time"))
    record_incident(session, incident.id)


def restore(
    session: Session,
    incident_id: int,
    *,
    at: datetime,
    actor: str = ENGINE,
    reason: str,
    notify: bool = True,
    topology: Topology | None = None,
) -> None:
    """Everyone has power again since `at`; 5 minutes or less after the start is momentary.
    Meters below are asked whether they are back (`outage.incidents.verification`), found
    on `topology` when given (an engine's region, so it needs no copy of the rest).

    `notify=False` for an outage recorded only after it ended: customers never heard of
    it, so "power is back" and "still out?" would only puzzle them.
    """
    incident = _load(session, incident_id)
    _restore(session, incident, at, actor=actor, reason=reason, notify=notify, topology=topology)


def _restore(
    session: Session,
    incident: Incident,
    at: datetime | None,
    *,
    actor: str,
    reason: str | None,
    notify: bool = True,
    details: dict[str, Any] | None = None,
    topology: Topology | None = None,
) -> None:
    at = _checked_time(incident, at, "restoration time")
    momentary = is_momentary(incident.started_at, at)
    _move(
        session,
        incident,
        IncidentStatus.RESTORED,
        AuditAction.RESTORED,
        actor=actor,
        reason=reason,
        details={
            "at": at.isoformat(),
            "momentary": momentary,
            "minutes": round((at - incident.started_at).total_seconds() / 60, 1),
            **(details or {}),
        },
    )
    incident.restored_at = at
    incident.momentary = momentary
    incident.customers_restored = incident.customers_affected
    close_reports(session, incident.id, at)
    if notify:
        incident_event(session, incident, EventKind.RESTORED)
    verify_restoration(session, incident, configured_verification(), topology)
    record_incident(session, incident.id, topology=topology)


@dataclass(frozen=True)
class EtrSetting:
    """One incident's estimated time of restoration, for `set_etrs`, as `set_etr` takes it."""

    incident_id: int
    etr: datetime
    source: EtrSource = EtrSource.PREDICTED
    likely: tuple[datetime, datetime] | None = None
    estimate: Mapping[str, Any] | None = None
    scope: EtrScope = EtrScope.OUTAGE
    reason: str | None = None


@dataclass(frozen=True)
class SetEtrs:
    changed: frozenset[int]
    """The incidents whose ETR changed."""
    left: Mapping[int, IncidentConflict | InvalidIncidentValue]
    """The incidents whose setting does not fit them now, each with why: left as they are."""


def set_etr(
    session: Session,
    incident_id: int,
    *,
    etr: datetime,
    source: EtrSource = EtrSource.PREDICTED,
    likely: tuple[datetime, datetime] | None = None,
    estimate: Mapping[str, Any] | None = None,
    scope: EtrScope = EtrScope.OUTAGE,
    actor: str = ENGINE,
    reason: str | None = None,
) -> bool:
    """Set the estimated time of restoration of an active incident.

    `likely` is the range an estimate's restoration likely falls in (earliest, latest),
    around `etr`; `estimate` is what it was made of, kept in the audit trail so that later
    estimates are calibrated on this one's outcome (`outage.crews.etr`). `scope`: in a
    storm's global or regional phase, the time is the storm's or the area's.

    A predicted estimate never replaces a crew's or a dispatcher's until that one is about
    to pass (`dispatch.etr.needs_reestimate`): then nothing changes and the answer is
    False. Once theirs is about to pass with the power still off, the estimate takes over,
    so customers are never left with a lapsed time.
    """
    incident = _load(session, incident_id)
    setting = EtrSetting(incident_id, etr, source, likely, estimate, scope, reason)
    return _set_etr(session, incident, setting, actor=actor)


def set_etrs(session: Session, settings: Sequence[EtrSetting], *, actor: str) -> SetEtrs:
    """`set_etr` of many incidents in a few statements, whatever their number: a storm's
    plan sets hundreds, and one by one they held the plan's locks for tens of seconds on a
    busy database, while the engine's cycle waited. A setting that does not fit its
    incident (no longer active, a time out of range) is left and named in the answer."""
    incidents = _load_many(session, [s.incident_id for s in settings])
    left: dict[int, IncidentConflict | InvalidIncidentValue] = {}
    changes: dict[int, _EtrChange] = {}
    for setting in settings:
        try:
            change = _etr_change(incidents[setting.incident_id], setting)
        except (IncidentConflict, InvalidIncidentValue) as unfit:
            left[setting.incident_id] = unfit
            continue
        if change is not None:
            changes[setting.incident_id] = change
    _write_columns(
        session,
        list(changes),
        {
            "etr": [c.etr for c in changes.values()],
            "etr_source": [c.source for c in changes.values()],
            "etr_earliest": [c.earliest for c in changes.values()],
            "etr_latest": [c.latest for c in changes.values()],
            "etr_scope": [c.scope for c in changes.values()],
        },
    )
    changed = [incidents[incident_id] for incident_id in changes]
    areas = areas_of(session, changed)
    for incident in changed:
        _etr_told(session, incident, changes[incident.id], actor=actor, areas=areas)
    return SetEtrs(changed=frozenset(changes), left=left)


def withdraw_etr(session: Session, incident_id: int, *, actor: str, reason: str) -> bool:
    """Take back an estimated ETR (a storm's region now being assessed): customers who
    were told a time hear that it no longer holds while the damage is assessed. A crew's
    or a dispatcher's own time stays. False when there was nothing to take."""
    incident = _load(session, incident_id)
    if incident.etr is None or incident.etr_source is not EtrSource.PREDICTED:
        return False
    previous = incident.etr
    incident.etr = incident.etr_source = incident.etr_earliest = incident.etr_latest = None
    incident.etr_scope = EtrScope.OUTAGE
    _audit(
        session,
        incident,
        AuditAction.ETR_SET,
        actor=actor,
        reason=reason,
        details={"etr": None, "withdrawn": True, "previous": previous.isoformat()},
    )
    incident_event(session, incident, EventKind.ETR_CHANGED, withdrawn=previous)
    return True


@dataclass(frozen=True)
class _EtrChange:
    """An incident's ETR as a setting leaves it, and how the audit trail and the customers
    hear of it."""

    etr: datetime
    source: EtrSource
    earliest: datetime | None
    latest: datetime | None
    scope: EtrScope
    reason: str | None
    details: dict[str, Any]
    event: EventKind


def _set_etr(session: Session, incident: Incident, setting: EtrSetting, *, actor: str) -> bool:
    change = _etr_change(incident, setting)
    if change is None:
        return False
    incident.etr = change.etr
    incident.etr_source = change.source
    incident.etr_earliest = change.earliest
    incident.etr_latest = change.latest
    incident.etr_scope = change.scope
    _etr_told(session, incident, change, actor=actor)
    return True


def _etr_change(incident: Incident, setting: EtrSetting) -> _EtrChange | None:
    """The change a setting makes, None when it makes none (the same time again, or an
    estimate where a crew's or a dispatcher's time still holds)."""
    _require_active(incident, "take an ETR")
    etr, source, likely = setting.etr, setting.source, setting.likely
    _aware(etr, "etr")
    if etr <= incident.started_at:
        raise EtrOutOfRange(f"etr {etr.isoformat()} is not after the incident started")
    if etr > clock.now() + ETR_HORIZON:
        raise EtrOutOfRange(f"etr {etr.isoformat()} is more than {ETR_HORIZON.days} days ahead")
    earliest, latest = likely if likely is not None else (None, None)
    if likely is not None:
        _aware(likely[0], "etr_earliest")
        _aware(likely[1], "etr_latest")
        if not likely[0] <= etr <= likely[1]:
            raise EtrOutOfRange("etr is not within its likely range")
    set_by_hand = incident.etr_source not in (None, EtrSource.PREDICTED)
    if (
        source is EtrSource.PREDICTED
        and set_by_hand
        and incident.etr is not None
        and not needs_reestimate(incident.etr, clock.now())
    ):
        return None
    now_set = (
        incident.etr,
        incident.etr_source,
        incident.etr_earliest,
        incident.etr_latest,
        incident.etr_scope,
    )
    if now_set == (etr, source, earliest, latest, setting.scope):
        return None
    previous, previous_latest = incident.etr, incident.etr_latest
    details: dict[str, Any] = {
        "etr": etr.isoformat(),
        "source": source.value,
        "previous": previous.isoformat() if previous else None,
    }
    if previous_latest is not None:
        details["previous_latest"] = previous_latest.isoformat()
    if earliest is not None and latest is not None:
        details["earliest"] = earliest.isoformat()
        details["latest"] = latest.isoformat()
    if setting.estimate is not None:
        details["estimate"] = dict(setting.estimate)
    if setting.scope is not EtrScope.OUTAGE:
        details["scope"] = setting.scope.value
    return _EtrChange(
        etr=etr,
        source=source,
        earliest=earliest,
        latest=latest,
        scope=setting.scope,
        reason=setting.reason,
        details=details,
        event=EventKind.ETR_CHANGED if previous else EventKind.ETR_SET,
    )


def _etr_told(
    session: Session,
    incident: Incident,
    change: _EtrChange,
    *,
    actor: str,
    areas: Mapping[int, str | None] | None = None,
) -> None:
    """The audit row and the outbox event of an ETR just set on the incident's row."""
    _audit(
        session,
        incident,
        AuditAction.ETR_SET,
        actor=actor,
        reason=change.reason,
        details=change.details,
    )
    incident_event(session, incident, change.event, areas=areas)
