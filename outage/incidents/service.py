"""Opening, updating and moving incidents through their lifecycle, with an audit row per change.

Two kinds of caller:

- the prediction engine: `open_incident`, `open_nested`, `update_prediction`,
  `merge_incidents`, `confirm`, `cancel`, `restore`, `set_etr`, `active_incidents`; it
  names places the way the inference does (device asset_ref, customer account);
- the HTTP API: `list_incidents`, `get_incident`, `incidents_geojson`, `apply_action`.

Every function takes the session and plain values and never commits: the caller owns the
transaction, so a change, its audit row and (later) the notifications it implies commit
together. Functions that change an incident lock its row first (`SELECT ... FOR UPDATE`),
so the engine and a dispatcher acting at once are serialised rather than lost.
"""

import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Row, Select, delete, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind
from grid_topology.topology import Topology
from outage.crews.models import Crew
from outage.grid.models import Customer, Device, Feeder, Premise
from outage.grid.service import load_network
from outage.incidents.enums import Action, AuditAction, EtrSource, EvidenceSource, IncidentKind
from outage.incidents.lifecycle import (
    ACTIVE,
    FINAL,
    IncidentStatus,
    check_transition,
    is_momentary,
)
from outage.incidents.models import Incident, IncidentEvent, IncidentEvidence
from outage.incidents.schemas import (
    DeviceRef,
    EvidenceCountsOut,
    IncidentDetailOut,
    IncidentEventOut,
    IncidentFeature,
    IncidentFeatureCollection,
    IncidentOut,
    IncidentPatch,
    IncidentProperties,
)
from outage.intake.enums import Hazard
from outage.intake.models import MeterEvent, Report, ScadaEvent
from outage.moments import ETR_HORIZON
from outage.notifications import outbox
from outage.notifications.enums import EventKind

ENGINE = "engine"
"""The actor the prediction engine writes in the audit trail."""

CLOCK_SKEW = timedelta(minutes=1)
"""How far in the future a reported restoration time may be (clocks differ)."""


class IncidentNotFound(LookupError):
    """No incident with that id."""


class StaleVersion(ValueError):
    """The client's `expected_version` is not the incident's version: someone changed it."""


class IncidentConflict(ValueError):
    """The change does not fit the incident as it is now (besides the lifecycle's rules)."""


class InvalidValue(ValueError):
    """A value that cannot be right: a time before the outage began, a negative count."""


class UnknownAsset(InvalidValue):
    """A device, customer account, feeder or piece of evidence we do not have."""


@dataclass(frozen=True)
class EvidenceRef:
    """One report, meter event or SCADA event, by id: `EvidenceRef.report(42)`."""

    source: EvidenceSource
    id: int

    @classmethod
    def report(cls, report_id: int) -> "EvidenceRef":
        return cls(EvidenceSource.REPORT, report_id)

    @classmethod
    def meter_event(cls, meter_event_id: int) -> "EvidenceRef":
        return cls(EvidenceSource.METER_EVENT, meter_event_id)

    @classmethod
    def scada_event(cls, scada_event_id: int) -> "EvidenceRef":
        return cls(EvidenceSource.SCADA_EVENT, scada_event_id)


@dataclass(frozen=True)
class ActiveIncident:
    """What the engine needs to match its predictions against the incidents already open."""

    id: int
    kind: IncidentKind
    status: IncidentStatus
    device: str | None
    """asset_ref of the faulted device."""
    premise: str | None
    """Premise ref of a single-service outage."""
    accounts: tuple[str, ...]
    """Customers at that premise (single-service outages only), as the engine names them."""
    feeder: str | None
    hazard: Hazard | None
    confidence: float
    customers_affected: int
    started_at: datetime
    parent_id: int | None
    crew_id: int | None
    version: int


_EVIDENCE_COLUMN = {
    EvidenceSource.REPORT: IncidentEvidence.report_id,
    EvidenceSource.METER_EVENT: IncidentEvidence.meter_event_id,
    EvidenceSource.SCADA_EVENT: IncidentEvidence.scada_event_id,
}
_EVIDENCE_TABLE: dict[EvidenceSource, Any] = {
    EvidenceSource.REPORT: Report,
    EvidenceSource.METER_EVENT: MeterEvent,
    EvidenceSource.SCADA_EVENT: ScadaEvent,
}


# --- reading ---------------------------------------------------------------------------


def _report_count() -> Any:
    return (
        select(func.count(Report.id))
        .where(Report.incident_id == Incident.id)
        .correlate(Incident)
        .scalar_subquery()
        .label("report_count")
    )


def _incident_query(*extra: Any) -> Select[Any]:
    return (
        select(Incident, Device.asset_ref, Device.kind, Premise.ref, Feeder.name, _report_count())
        .add_columns(*extra)
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(Premise, Premise.id == Incident.premise_id)
        .outerjoin(Feeder, Feeder.id == Incident.feeder_id)
    )


def _incident_out(row: Row[Any]) -> IncidentOut:
    incident, asset_ref, device_kind, premise, feeder, report_count = row[:6]
    return IncidentOut(
        id=incident.id,
        kind=incident.kind,
        status=incident.status,
        device=DeviceRef(asset_ref=asset_ref, kind=DeviceKind(device_kind)) if asset_ref else None,
        premise=premise,
        feeder=feeder,
        hazard=incident.hazard,
        confidence=incident.confidence,
        customers_affected=incident.customers_affected,
        customers_restored=incident.customers_restored,
        report_count=report_count,
        started_at=incident.started_at,
        restored_at=incident.restored_at,
        momentary=incident.momentary,
        etr=incident.etr,
        etr_source=incident.etr_source,
        crew_id=incident.crew_id,
        cause=incident.cause,
        parent_id=incident.parent_id,
        merged_into_id=incident.merged_into_id,
        version=incident.version,
        updated_at=incident.updated_at,
    )


def _newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(Incident.started_at.desc(), Incident.id.desc())


def list_incidents(
    session: Session,
    *,
    statuses: Collection[IncidentStatus] | None = None,
    feeder: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[IncidentOut]:
    """Incidents newest first, optionally only those in `statuses` or on one feeder (by name)."""
    query = _newest_first(_incident_query()).limit(limit).offset(offset)
    if statuses is not None:
        query = query.where(Incident.status.in_(sorted(statuses)))
    if feeder is not None:
        query = query.where(Feeder.name == feeder)
    return [_incident_out(row) for row in session.execute(query)]


def get_incident(session: Session, incident_id: int) -> IncidentDetailOut:
    """One incident with its evidence counts, nested incidents and audit trail."""
    row = session.execute(_incident_query().where(Incident.id == incident_id)).first()
    if row is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    counts = session.execute(
        select(
            func.count(IncidentEvidence.report_id),
            func.count(IncidentEvidence.meter_event_id),
            func.count(IncidentEvidence.scada_event_id),
        ).where(IncidentEvidence.incident_id == incident_id)
    ).one()
    nested = session.scalars(
        select(Incident.id).where(Incident.parent_id == incident_id).order_by(Incident.id)
    )
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id)
        .order_by(IncidentEvent.id)
    )
    return IncidentDetailOut(
        **_incident_out(row).model_dump(),
        evidence=EvidenceCountsOut(
            reports=counts[0], meter_events=counts[1], scada_events=counts[2]
        ),
        nested=list(nested),
        events=[
            IncidentEventOut(
                at=e.at,
                actor=e.actor,
                action=e.action,
                from_status=e.from_status,
                to_status=e.to_status,
                reason=e.reason,
                details=e.details,
            )
            for e in events
        ],
    )


def crew_of(session: Session, incident_id: int) -> int | None:
    """The crew an incident is assigned to (None when none is, or no such incident)."""
    return session.scalar(select(Incident.crew_id).where(Incident.id == incident_id))


def incidents_geojson(session: Session, *, feeder: str | None = None) -> IncidentFeatureCollection:
    """Every active incident as a GeoJSON feature on its device's or premise's geometry."""
    geometry = func.ST_AsGeoJSON(func.coalesce(Device.geom, Premise.geom), 6)
    query = _newest_first(_incident_query(geometry)).where(Incident.status.in_(sorted(ACTIVE)))
    if feeder is not None:
        query = query.where(Feeder.name == feeder)
    features = []
    for row in session.execute(query):
        out = _incident_out(row)
        properties = IncidentProperties(
            **out.model_dump(include=set(IncidentProperties.model_fields))
        )
        features.append(
            IncidentFeature(
                id=out.id,
                geometry=json.loads(row[6]) if row[6] else None,
                properties=properties,
            )
        )
    return IncidentFeatureCollection(features=features)


def active_incidents(session: Session, *, feeder: str | None = None) -> list[ActiveIncident]:
    """The incidents the engine may still update, oldest first."""
    accounts = (
        select(func.array_agg(func.distinct(Customer.account)))
        .where(Customer.premise_id == Incident.premise_id)
        .correlate(Incident)
        .scalar_subquery()
    )
    query = (
        select(Incident, Device.asset_ref, Premise.ref, Feeder.name, accounts)
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(Premise, Premise.id == Incident.premise_id)
        .outerjoin(Feeder, Feeder.id == Incident.feeder_id)
        .where(Incident.status.in_(sorted(ACTIVE)))
        .order_by(Incident.started_at, Incident.id)
    )
    if feeder is not None:
        query = query.where(Feeder.name == feeder)
    return [
        ActiveIncident(
            id=incident.id,
            kind=incident.kind,
            status=incident.status,
            device=asset_ref,
            premise=premise,
            accounts=tuple(sorted(premise_accounts or ())),
            feeder=feeder_name,
            hazard=incident.hazard,
            confidence=incident.confidence,
            customers_affected=incident.customers_affected,
            started_at=incident.started_at,
            parent_id=incident.parent_id,
            crew_id=incident.crew_id,
            version=incident.version,
        )
        for incident, asset_ref, premise, feeder_name, premise_accounts in session.execute(query)
    ]


# --- shared steps ----------------------------------------------------------------------


def _load(session: Session, incident_id: int) -> Incident:
    """The incident, its row locked until the transaction ends."""
    incident = session.scalars(
        select(Incident)
        .where(Incident.id == incident_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if incident is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    return incident


def _audit(
    session: Session,
    incident: Incident,
    action: AuditAction,
    *,
    actor: str,
    reason: str | None,
    from_status: IncidentStatus | None = None,
    to_status: IncidentStatus | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One row of the audit trail; the statuses only when the status changed (or repeated)."""
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            details=details or {},
        )
    )


def _move(
    session: Session,
    incident: Incident,
    to: IncidentStatus,
    action: AuditAction,
    *,
    actor: str,
    reason: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Change the status as the lifecycle allows, and write it in the audit trail."""
    current = incident.status
    check_transition(current, to, incident.id)
    incident.status = to
    _audit(
        session,
        incident,
        action,
        actor=actor,
        reason=reason,
        from_status=current,
        to_status=to,
        details=details,
    )


def _touch(incident: Incident) -> None:
    """Make a change that touched only other tables (evidence) a new version of the row."""
    incident.updated_at = func.now()


def _require_active(incident: Incident, doing: str) -> None:
    if incident.status not in ACTIVE:
        raise IncidentConflict(f"incident {incident.id} is {incident.status.value}: cannot {doing}")


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValue(f"{name} must carry a time zone")
    return moment


def _check_figures(confidence: float | None, customers_affected: int | None) -> None:
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise InvalidValue(f"confidence must be between 0 and 1, not {confidence}")
    if customers_affected is not None and customers_affected < 0:
        raise InvalidValue(f"customers_affected cannot be negative ({customers_affected})")


@dataclass(frozen=True)
class _Place:
    device_id: int | None
    premise_id: int | None
    feeder_id: int | None
    label: dict[str, str | None]
    """For the audit trail: {"device": asset_ref} or {"premise": ref, "account": account}."""


def _place(
    session: Session,
    device_asset_ref: str | None,
    account: str | None,
    feeder: str | None,
) -> _Place:
    """Device or premise ids from the engine's names; the feeder follows unless given."""
    if device_asset_ref is not None and account is not None:
        raise InvalidValue("an incident is on a device or on one customer's service, not both")
    device_id = premise_id = feeder_id = None
    label: dict[str, str | None] = {}
    if device_asset_ref is not None:
        device = session.execute(
            select(Device.id, Device.feeder_id).where(Device.asset_ref == device_asset_ref)
        ).first()
        if device is None:
            raise UnknownAsset(f"no device with asset_ref {device_asset_ref!r}")
        device_id, feeder_id = device
        label = {"device": device_asset_ref}
    elif account is not None:
        premise = session.execute(
            select(Premise.id, Premise.feeder_id, Premise.ref)
            .join(Customer, Customer.premise_id == Premise.id)
            .where(Customer.account == account)
        ).first()
        if premise is None:
            raise UnknownAsset(f"no customer with account {account!r}")
        premise_id, feeder_id, premise_ref = premise
        label = {"premise": premise_ref, "account": account}
    if feeder is not None:
        feeder_id = session.scalar(select(Feeder.id).where(Feeder.name == feeder))
        if feeder_id is None:
            raise UnknownAsset(f"no feeder named {feeder!r}")
    return _Place(device_id, premise_id, feeder_id, label)


def _by_source(evidence: Iterable[EvidenceRef]) -> dict[EvidenceSource, list[int]]:
    grouped: dict[EvidenceSource, set[int]] = {}
    for item in evidence:
        grouped.setdefault(item.source, set()).add(item.id)
    return {source: sorted(ids) for source, ids in grouped.items()}


def _add_evidence(
    session: Session, incident_id: int, evidence: Iterable[EvidenceRef]
) -> dict[str, list[int]]:
    """Attach evidence (again is harmless); reports point to the incident. Returns what is new."""
    added: dict[str, list[int]] = {}
    for source, ids in _by_source(evidence).items():
        table = _EVIDENCE_TABLE[source]
        missing = set(ids) - set(session.scalars(select(table.id).where(table.id.in_(ids))))
        if missing:
            raise UnknownAsset(f"no {source.value} with id {', '.join(map(str, sorted(missing)))}")
        column = _EVIDENCE_COLUMN[source]
        new = session.scalars(
            insert(IncidentEvidence)
            .values([{"incident_id": incident_id, column.key: id_} for id_ in ids])
            .on_conflict_do_nothing()
            .returning(column)
        ).all()
        if new:
            added[source.value] = sorted(i for i in new if i is not None)
        if source is EvidenceSource.REPORT:
            session.execute(
                update(Report)
                .where(Report.id.in_(ids), Report.incident_id.is_distinct_from(incident_id))
                .values(incident_id=incident_id)
            )
    return added


def _remove_evidence(
    session: Session, incident_id: int, evidence: Iterable[EvidenceRef]
) -> dict[str, list[int]]:
    """Detach evidence; reports that pointed here point nowhere. Returns what was removed."""
    removed: dict[str, list[int]] = {}
    for source, ids in _by_source(evidence).items():
        column = _EVIDENCE_COLUMN[source]
        gone = session.scalars(
            delete(IncidentEvidence)
            .where(IncidentEvidence.incident_id == incident_id, column.in_(ids))
            .returning(column)
        ).all()
        if gone:
            removed[source.value] = sorted(i for i in gone if i is not None)
        if source is EvidenceSource.REPORT:
            session.execute(
                update(Report)
                .where(Report.id.in_(ids), Report.incident_id == incident_id)
                .values(incident_id=None)
            )
    return removed


# --- for the prediction engine ---------------------------------------------------------


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
    _aware(started_at, "started_at")
    _check_figures(confidence, customers_affected)
    if kind is IncidentKind.HAZARD and hazard is None:
        raise InvalidValue("a hazard incident needs its hazard (wires_down, fire, ...)")
    incident = Incident(
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
    session.add(incident)
    session.flush()
    added = _add_evidence(session, incident.id, evidence)
    _audit(
        session,
        incident,
        AuditAction.OPENED,
        actor=actor,
        reason=reason,
        to_status=IncidentStatus.PREDICTED,
        details={
            **place.label,
            "kind": kind.value,
            "confidence": confidence,
            "customers_affected": customers_affected,
            "evidence": added,
            **({"hazard": hazard.value} if hazard else {}),
            **({"parent_id": parent_id} if parent_id else {}),
        },
    )
    outbox.incident_event(session, incident, EventKind.OUTAGE_DETECTED)
    return incident


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
    incident = _load(session, incident_id)
    _require_active(incident, "update its prediction")
    _check_figures(confidence, customers_affected)
    changed = False
    if device_asset_ref is not None or account is not None:
        place = _place(session, device_asset_ref, account, None)
        changed = _relocate(session, incident, place, actor=actor, reason=reason)
    details: dict[str, Any] = {}
    if confidence is not None and confidence != incident.confidence:
        details["confidence"] = [incident.confidence, confidence]
        incident.confidence = confidence
    if customers_affected is not None and customers_affected != incident.customers_affected:
        details["customers_affected"] = [incident.customers_affected, customers_affected]
        incident.customers_affected = customers_affected
        incident.customers_restored = min(incident.customers_restored, customers_affected)
    added = _add_evidence(session, incident.id, add_evidence)
    removed = _remove_evidence(session, incident.id, remove_evidence)
    if added:
        details["evidence_added"] = added
    if removed:
        details["evidence_removed"] = removed
    if details:
        _audit(session, incident, AuditAction.UPDATED, actor=actor, reason=reason, details=details)
        changed = True
    if changed:
        _touch(incident)
    return changed


def _relocate(
    session: Session, incident: Incident, place: "_Place", *, actor: str, reason: str | None
) -> bool:
    """Blame another device or premise: only while the place is still a prediction."""
    if (place.device_id, place.premise_id) == (incident.device_id, incident.premise_id):
        return False
    if incident.status is not IncidentStatus.PREDICTED:
        raise IncidentConflict(
            f"incident {incident.id} is {incident.status.value}: its place is no longer "
            "a prediction; open a new incident instead"
        )
    before = _label(session, incident)
    incident.device_id = place.device_id
    incident.premise_id = place.premise_id
    incident.feeder_id = place.feeder_id
    _audit(
        session,
        incident,
        AuditAction.MOVED,
        actor=actor,
        reason=reason,
        details={"from": before, "to": place.label},
    )
    outbox.incident_event(session, incident, EventKind.OUTAGE_DETECTED)
    return True


def _label(session: Session, incident: Incident) -> dict[str, str | None]:
    if incident.device_id is not None:
        return {
            "device": session.scalar(
                select(Device.asset_ref).where(Device.id == incident.device_id)
            )
        }
    if incident.premise_id is not None:
        return {
            "premise": session.scalar(select(Premise.ref).where(Premise.id == incident.premise_id))
        }
    return {}


def merge_incidents(
    session: Session, keep_id: int, merged_id: int, *, actor: str = ENGINE, reason: str
) -> None:
    """Fold one incident into another, which the engine found to be the same outage.

    The evidence, reports and nested incidents of `merged_id` move to `keep_id`, which
    starts at the earlier of the two starts; `merged_id` is cancelled, pointing to `keep_id`.
    Its crew, if any, must be unassigned first.
    """
    if keep_id == merged_id:
        raise IncidentConflict(f"incident {keep_id} cannot be merged into itself")
    first, second = sorted((keep_id, merged_id))  # one lock order, so two merges never deadlock
    locked = {first: _load(session, first), second: _load(session, second)}
    keep, merged = locked[keep_id], locked[merged_id]
    _require_active(keep, "take in another incident")
    _require_active(merged, "be merged")
    if merged.crew_id is not None:
        raise IncidentConflict(
            f"incident {merged.id} has crew {merged.crew_id} assigned: unassign it before merging"
        )
    carried = session.execute(
        select(
            func.count(IncidentEvidence.report_id),
            func.count(IncidentEvidence.meter_event_id),
            func.count(IncidentEvidence.scada_event_id),
        ).where(IncidentEvidence.incident_id == merged.id)
    ).one()
    session.execute(
        insert(IncidentEvidence)
        .from_select(
            ["incident_id", "report_id", "meter_event_id", "scada_event_id", "added_at"],
            select(
                literal(keep.id, Integer),
                IncidentEvidence.report_id,
                IncidentEvidence.meter_event_id,
                IncidentEvidence.scada_event_id,
                IncidentEvidence.added_at,
            ).where(IncidentEvidence.incident_id == merged.id),
        )
        .on_conflict_do_nothing()
    )
    session.execute(delete(IncidentEvidence).where(IncidentEvidence.incident_id == merged.id))
    session.execute(
        update(Report).where(Report.incident_id == merged.id).values(incident_id=keep.id)
    )
    session.execute(
        update(Incident)
        .where(Incident.parent_id == merged.id, Incident.id != keep.id)
        .values(parent_id=keep.id, version=Incident.version + 1, updated_at=func.now())
    )
    if keep.parent_id == merged.id:
        keep.parent_id = merged.parent_id
    keep.started_at = min(keep.started_at, merged.started_at)
    _touch(keep)
    merged.merged_into_id = keep.id
    _move(
        session,
        merged,
        IncidentStatus.CANCELLED,
        AuditAction.MERGED,
        actor=actor,
        reason=reason,
        details={"into": keep.id},
    )
    _audit(
        session,
        keep,
        AuditAction.ABSORBED,
        actor=actor,
        reason=reason,
        details={
            "merged": merged.id,
            "evidence": {
                "reports": carried[0],
                "meter_events": carried[1],
                "scada_events": carried[2],
            },
        },
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
    """There was no such outage. Its reports keep pointing to it, as history."""
    incident = _load(session, incident_id)
    _move(
        session,
        incident,
        IncidentStatus.CANCELLED,
        AuditAction.CANCELLED,
        actor=actor,
        reason=reason,
    )


def _checked_time(incident: Incident, at: datetime | None, name: str) -> datetime:
    now = datetime.now(UTC)
    if at is None:
        return max(now, incident.started_at)
    _aware(at, name)
    if at < incident.started_at:
        raise InvalidValue(
            f"{name} {at.isoformat()} is before incident {incident.id} started "
            f"({incident.started_at.isoformat()})"
        )
    if at > now + CLOCK_SKEW:
        raise InvalidValue(f"{name} {at.isoformat()} is in the future")
    return at


def restore(
    session: Session,
    incident_id: int,
    *,
    at: datetime,
    actor: str = ENGINE,
    reason: str,
    notify: bool = True,
) -> None:
    """Everyone has power again since `at`; 5 minutes or less after the start is momentary.

    `notify=False` for an outage recorded only after it ended: customers never heard of
    it, so "power is back" and "still out?" would only puzzle them.
    """
    incident = _load(session, incident_id)
    _restore(session, incident, at, actor=actor, reason=reason, notify=notify)


def _restore(
    session: Session,
    incident: Incident,
    at: datetime | None,
    *,
    actor: str,
    reason: str | None,
    notify: bool = True,
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
        },
    )
    incident.restored_at = at
    incident.momentary = momentary
    incident.customers_restored = incident.customers_affected
    if notify:
        outbox.incident_event(session, incident, EventKind.RESTORED)


def set_etr(
    session: Session,
    incident_id: int,
    *,
    etr: datetime,
    source: EtrSource = EtrSource.PREDICTED,
    actor: str = ENGINE,
    reason: str | None = None,
) -> bool:
    """Set the estimated time of restoration of an active incident.

    A predicted estimate never replaces a crew's or a dispatcher's while that one lies
    ahead: then nothing changes and the answer is False. Once theirs has passed with the
    power still off, the estimate takes over, so customers are never left with a lapsed time.
    """
    incident = _load(session, incident_id)
    return _set_etr(session, incident, etr, source, actor=actor, reason=reason)


def _set_etr(
    session: Session,
    incident: Incident,
    etr: datetime,
    source: EtrSource,
    *,
    actor: str,
    reason: str | None,
) -> bool:
    _require_active(incident, "take an ETR")
    _aware(etr, "etr")
    if etr <= incident.started_at:
        raise InvalidValue(f"etr {etr.isoformat()} is not after the incident started")
    if etr > datetime.now(UTC) + ETR_HORIZON:
        raise InvalidValue(f"etr {etr.isoformat()} is more than {ETR_HORIZON.days} days ahead")
    set_by_hand = incident.etr_source not in (None, EtrSource.PREDICTED)
    if (
        source is EtrSource.PREDICTED
        and set_by_hand
        and incident.etr is not None
        and incident.etr > datetime.now(UTC)
    ):
        return False
    if (incident.etr, incident.etr_source) == (etr, source):
        return False
    previous = incident.etr
    incident.etr = etr
    incident.etr_source = source
    _audit(
        session,
        incident,
        AuditAction.ETR_SET,
        actor=actor,
        reason=reason,
        details={
            "etr": etr.isoformat(),
            "source": source.value,
            "previous": previous.isoformat() if previous else None,
        },
    )
    outbox.incident_event(
        session, incident, EventKind.ETR_CHANGED if previous else EventKind.ETR_SET
    )
    return True


# --- dispatcher and crew actions -------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    session: Session
    incident: Incident
    patch: IncidentPatch
    actor: str
    topology: Callable[[], Topology]


def _with_crew(context: _Context, to: IncidentStatus, action: AuditAction) -> None:
    incident = context.incident
    if incident.crew_id is None:
        raise IncidentConflict(f"incident {incident.id} has no crew assigned: assign one first")
    _move(
        context.session,
        incident,
        to,
        action,
        actor=context.actor,
        reason=context.patch.reason,
        details={"crew_id": incident.crew_id},
    )


def _do_confirm(context: _Context) -> None:
    """A crew or SCADA confirms the outage, at the predicted device or the one they found."""
    session, incident, device = context.session, context.incident, context.patch.device
    if device is not None:
        place = _place(session, device, None, None)
        reason = context.patch.reason or "the crew found the fault here"
        if _relocate(session, incident, place, actor=context.actor, reason=reason):
            incident.customers_affected = len(context.topology().downstream(device).accounts)
    _confirm(session, incident, actor=context.actor, reason=context.patch.reason)


def _do_assign(context: _Context) -> None:
    incident, crew_id = context.incident, context.patch.crew_id
    if not context.session.scalar(select(exists().where(Crew.id == crew_id))):
        raise InvalidValue(f"no crew {crew_id}")
    if incident.crew_id == crew_id and incident.status is IncidentStatus.DISPATCHED:
        raise IncidentConflict(f"crew {crew_id} is already assigned to incident {incident.id}")
    previous = incident.crew_id
    _move(
        context.session,
        incident,
        IncidentStatus.DISPATCHED,
        AuditAction.ASSIGNED,
        actor=context.actor,
        reason=context.patch.reason,
        details={"crew_id": crew_id, "previous_crew_id": previous},
    )
    incident.crew_id = crew_id


def _do_unassign(context: _Context) -> None:
    _with_crew(context, IncidentStatus.CONFIRMED, AuditAction.UNASSIGNED)
    context.incident.crew_id = None


def _do_en_route(context: _Context) -> None:
    _with_crew(context, IncidentStatus.EN_ROUTE, AuditAction.EN_ROUTE)


def _do_on_site(context: _Context) -> None:
    incident = context.incident
    setback = incident.status in (IncidentStatus.RESTORED, IncidentStatus.PARTIALLY_RESTORED)
    reopened = incident.status is IncidentStatus.RESTORED
    _with_crew(
        context, IncidentStatus.ON_SITE, AuditAction.REOPENED if reopened else AuditAction.ON_SITE
    )
    outbox.incident_event(context.session, incident, EventKind.CREW_ON_SITE)
    if setback:  # the restoration did not hold: everyone is out again
        incident.restored_at = None
        incident.momentary = False
        incident.customers_restored = 0


def _customers_below(context: _Context, asset_ref: str) -> int:
    incident = context.incident
    if incident.device_id is None:
        raise IncidentConflict(
            f"incident {incident.id} is not on a device: give restored_customers instead"
        )
    topology = context.topology()
    if asset_ref not in topology.network.links:
        raise UnknownAsset(f"no device with asset_ref {asset_ref!r}")
    faulted = _label(context.session, incident)["device"]
    if faulted not in topology.upstream(asset_ref).devices:
        raise IncidentConflict(f"{asset_ref} is not downstream of {faulted}")
    return len(topology.downstream(asset_ref).accounts)


def _do_partial_restore(context: _Context) -> None:
    incident, patch = context.incident, context.patch
    at = _checked_time(incident, patch.at, "restoration time")
    if patch.restored_device is not None:
        step = _customers_below(context, patch.restored_device)
    else:
        step = patch.restored_customers or 0
    total = incident.customers_restored + step
    if total >= incident.customers_affected:
        raise IncidentConflict(
            f"that makes {total} of the {incident.customers_affected} customers of incident "
            f"{incident.id}: use the action restored"
        )
    _move(
        context.session,
        incident,
        IncidentStatus.PARTIALLY_RESTORED,
        AuditAction.PARTIALLY_RESTORED,
        actor=context.actor,
        reason=patch.reason,
        details={
            "at": at.isoformat(),
            "restored_customers": step,
            "restored_device": patch.restored_device,
            "customers_restored": total,
        },
    )
    incident.customers_restored = total
    outbox.incident_event(
        context.session, incident, EventKind.RESTORED, below=patch.restored_device
    )


def _do_restored(context: _Context) -> None:
    _restore(
        context.session,
        context.incident,
        context.patch.at,
        actor=context.actor,
        reason=context.patch.reason,
    )


def _do_cancel(context: _Context) -> None:
    _move(
        context.session,
        context.incident,
        IncidentStatus.CANCELLED,
        AuditAction.CANCELLED,
        actor=context.actor,
        reason=context.patch.reason,
    )


def _do_close(context: _Context) -> None:
    session, incident = context.session, context.incident
    if incident.cause is None:
        raise IncidentConflict(f"incident {incident.id} has no cause yet: set_cause before closing")
    open_nested = session.scalar(
        select(
            exists().where(Incident.parent_id == incident.id, Incident.status.in_(sorted(ACTIVE)))
        )
    )
    if open_nested:
        raise IncidentConflict(f"incident {incident.id} still has active nested incidents")
    _move(
        session,
        incident,
        IncidentStatus.CLOSED,
        AuditAction.CLOSED,
        actor=context.actor,
        reason=context.patch.reason,
    )


def _do_set_cause(context: _Context) -> None:
    incident, cause = context.incident, context.patch.cause
    if incident.status in FINAL:
        raise IncidentConflict(
            f"incident {incident.id} is {incident.status.value}: its cause is final"
        )
    if cause == incident.cause:
        raise IncidentConflict(f"incident {incident.id} has that cause already")
    _audit(
        context.session,
        incident,
        AuditAction.CAUSE_SET,
        actor=context.actor,
        reason=context.patch.reason,
        details={"cause": cause, "previous": incident.cause},
    )
    incident.cause = cause


def _do_set_etr(context: _Context) -> None:
    patch = context.patch
    assert patch.etr is not None  # the schema requires it for set_etr
    changed = _set_etr(
        context.session,
        context.incident,
        patch.etr,
        EtrSource(patch.etr_source),
        actor=context.actor,
        reason=patch.reason,
    )
    if not changed:
        raise IncidentConflict(f"incident {context.incident.id} has that ETR already")


_ACTIONS: dict[Action, Callable[[_Context], None]] = {
    Action.CONFIRM: _do_confirm,
    Action.ASSIGN: _do_assign,
    Action.UNASSIGN: _do_unassign,
    Action.EN_ROUTE: _do_en_route,
    Action.ON_SITE: _do_on_site,
    Action.PARTIAL_RESTORE: _do_partial_restore,
    Action.RESTORED: _do_restored,
    Action.CANCEL: _do_cancel,
    Action.CLOSE: _do_close,
    Action.SET_CAUSE: _do_set_cause,
    Action.SET_ETR: _do_set_etr,
}


def apply_action(
    session: Session,
    incident_id: int,
    action: IncidentPatch,
    actor: str,
    *,
    topology: Topology | None = None,
) -> IncidentOut:
    """Apply one dispatcher or crew action and answer the incident as it is now.

    `topology` (the live network) is needed only to count the customers below a
    `restored_device`; without it the network is loaded from the database.
    """
    incident = _load(session, incident_id)
    if action.expected_version is not None and action.expected_version != incident.version:
        raise StaleVersion(
            f"incident {incident.id} is at version {incident.version}, not "
            f"{action.expected_version}: someone changed it meanwhile; reload and try again"
        )

    def network() -> Topology:
        return topology if topology is not None else Topology(load_network(session))

    _ACTIONS[action.action](_Context(session, incident, action, actor, network))
    session.flush()
    row = session.execute(_incident_query().where(Incident.id == incident.id)).one()
    return _incident_out(row)
