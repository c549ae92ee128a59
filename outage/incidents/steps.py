"""The steps every change to an incident is made of, for the engine's changes and the
dispatchers' actions in this package: loading and locking the row, the audit trail, status
moves as the lifecycle allows, checks of times and figures, and naming or moving the place
an incident is blamed on.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, any_, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from outage import clock
from outage.grid.models import Customer, Device, Feeder, Premise
from outage.incidents.enums import AuditAction
from outage.incidents.errors import (
    IncidentConflict,
    IncidentNotFound,
    InvalidIncidentValue,
    UnknownAsset,
)
from outage.incidents.lifecycle import ACTIVE, IncidentStatus, check_transition
from outage.incidents.models import Incident, IncidentEvent
from outage.incidents.outbox import incident_event
from outage.moments import CLOCK_SKEW
from outage.outbox.enums import EventKind


def _load(session: Session, incident_id: int) -> Incident:
    """The incident, its row locked until the transaction ends.

    FOR NO KEY UPDATE: changes to one incident wait for one another, but rows that only
    refer to it (plan jobs, evidence, messages: their foreign keys take KEY SHARE) need
    not, or a planner writing jobs for many incidents deadlocks with their changes."""
    incident = session.scalars(
        select(Incident)
        .where(Incident.id == incident_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).first()
    if incident is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    return incident


def _load_many(session: Session, incident_ids: Collection[int]) -> dict[int, Incident]:
    """`_load` of many incidents in one statement, locked in id order, so that two callers
    locking overlapping sets never deadlock."""
    wanted = sorted(set(incident_ids))
    if not wanted:
        return {}
    found = session.scalars(
        select(Incident)
        .where(Incident.id == any_(literal(wanted, ARRAY(Integer))))
        .order_by(Incident.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    incidents = {incident.id: incident for incident in found}
    missing = [str(i) for i in wanted if i not in incidents]
    if missing:
        raise IncidentNotFound(f"no incident {', '.join(missing)}")
    return incidents


def _write_columns(
    session: Session, incident_ids: Sequence[int], columns: Mapping[str, Sequence[Any]]
) -> None:
    """Write these columns of these incidents (locked), a value each, in one statement: a
    new version of each row, as the session's own update would make it. The session's
    copies are refreshed from what the statement returns."""
    if not incident_ids:
        return
    table = cast(Table, Incident.__table__)
    names = list(columns)
    values = (
        func.unnest(
            literal(list(incident_ids), ARRAY(Integer)),
            *(literal(list(columns[name]), ARRAY(table.c[name].type)) for name in names),
        )
        .table_valued("id", *names)
        .render_derived()
    )
    session.execute(
        update(Incident)
        .where(Incident.id == values.c.id)
        .values(
            {
                **{name: values.c[name] for name in names},
                "version": Incident.version + 1,
                "updated_at": func.now(),
            }
        )
        .returning(Incident)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).all()


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
        raise InvalidIncidentValue(f"{name} must carry a time zone")
    return moment


def _check_figures(confidence: float | None, customers_affected: int | None) -> None:
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise InvalidIncidentValue(f"confidence must be between 0 and 1, not {confidence}")
    if customers_affected is not None and customers_affected < 0:
        raise InvalidIncidentValue(f"customers_affected cannot be negative ({customers_affected})")


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
    (place,) = _places(session, [(device_asset_ref, account)])
    if feeder is not None:
        feeder_id = session.scalar(select(Feeder.id).where(Feeder.name == feeder))
        if feeder_id is None:
            raise UnknownAsset(f"no feeder named {feeder!r}")
        place = replace(place, feeder_id=feeder_id)
    return place


def _places(session: Session, named: Sequence[tuple[str | None, str | None]]) -> list[_Place]:
    """`_place` of many (device asset_ref, account) names in two queries, without feeders."""
    devices = sorted({device for device, _ in named if device is not None})
    accounts = sorted({account for _, account in named if account is not None})
    device_rows = (
        {
            ref: (device_id, feeder_id)
            for ref, device_id, feeder_id in session.execute(
                select(Device.asset_ref, Device.id, Device.feeder_id).where(
                    Device.asset_ref.in_(devices)
                )
            )
        }
        if devices
        else {}
    )
    premise_rows = (
        {
            account: (premise_id, feeder_id, ref)
            for account, premise_id, feeder_id, ref in session.execute(
                select(Customer.account, Premise.id, Premise.feeder_id, Premise.ref)
                .join(Customer, Customer.premise_id == Premise.id)
                .where(Customer.account.in_(accounts))
            )
        }
        if accounts
        else {}
    )
    places = []
    for device, account in named:
        if device is not None and account is not None:
            raise InvalidIncidentValue(
                "an incident is on a device or on one customer's service, not both"
            )
        if device is not None:
            if device not in device_rows:
                raise UnknownAsset(f"no device with asset_ref {device!r}")
            device_id, feeder_id = device_rows[device]
            places.append(_Place(device_id, None, feeder_id, {"device": device}))
        elif account is not None:
            if account not in premise_rows:
                raise UnknownAsset(f"no customer with account {account!r}")
            premise_id, feeder_id, premise_ref = premise_rows[account]
            label = {"premise": premise_ref, "account": account}
            places.append(_Place(None, premise_id, feeder_id, label))
        else:
            places.append(_Place(None, None, None, {}))
    return places


def _checked_time(incident: Incident, at: datetime | None, name: str) -> datetime:
    now = clock.now()
    if at is None:
        return max(now, incident.started_at)
    _aware(at, name)
    if at < incident.started_at:
        raise InvalidIncidentValue(
            f"{name} {at.isoformat()} is before incident {incident.id} started "
            f"({incident.started_at.isoformat()})"
        )
    if at > now + CLOCK_SKEW:
        raise InvalidIncidentValue(f"{name} {at.isoformat()} is in the future")
    return at


def _moves_to(incident: Incident, place: _Place) -> bool:
    """Whether `place` is another place than the incident's, which it may move to only
    while its place is still a prediction (IncidentConflict otherwise)."""
    if (place.device_id, place.premise_id) == (incident.device_id, incident.premise_id):
        return False
    if incident.status is not IncidentStatus.PREDICTED:
        raise IncidentConflict(
            f"incident {incident.id} is {incident.status.value}: its place is no longer "
            "a prediction; open a new incident instead"
        )
    return True


def _relocate(
    session: Session, incident: Incident, place: _Place, *, actor: str, reason: str | None
) -> bool:
    """Blame another device or premise: only while the place is still a prediction."""
    if not _moves_to(incident, place):
        return False
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
    incident_event(session, incident, EventKind.OUTAGE_DETECTED)
    return True


def _label(session: Session, incident: Incident) -> dict[str, str | None]:
    return _labels(session, [incident])[incident.id]


def _labels(session: Session, incidents: Sequence[Incident]) -> dict[int, dict[str, str | None]]:
    """Incident -> its place as the audit trail names it ({"device": asset_ref} or
    {"premise": ref}; {} when it has none), for many incidents in at most two queries."""
    device_ids = sorted({i.device_id for i in incidents if i.device_id is not None})
    premise_ids = sorted({i.premise_id for i in incidents if i.premise_id is not None})
    devices: dict[int, str] = {}
    if device_ids:
        found = select(Device.id, Device.asset_ref).where(Device.id.in_(device_ids))
        devices = {device_id: ref for device_id, ref in session.execute(found)}
    premises: dict[int, str] = {}
    if premise_ids:
        found = select(Premise.id, Premise.ref).where(Premise.id.in_(premise_ids))
        premises = {premise_id: ref for premise_id, ref in session.execute(found)}
    labels: dict[int, dict[str, str | None]] = {}
    for incident in incidents:
        if incident.device_id is not None:
            labels[incident.id] = {"device": devices.get(incident.device_id)}
        elif incident.premise_id is not None:
            labels[incident.id] = {"premise": premises.get(incident.premise_id)}
        else:
            labels[incident.id] = {}
    return labels
