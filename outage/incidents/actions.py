"""Dispatcher and crew actions on an incident (`apply_action`, one handler per action), as
the HTTP API and the crew planner apply them.

Like the engine's changes, an action never commits (the caller owns the transaction) and
locks the incident's row first, so the engine and a dispatcher acting at once are serialised.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.etr import EtrSource
from grid_topology.topology import Topology
from outage.grid.history import NetworkHistory
from outage.grid.live import LiveTopology
from outage.incidents import edits, findings
from outage.incidents.changes import EtrSetting, _cancel, _confirm, _restore, _set_etr
from outage.incidents.enums import Action, AuditAction
from outage.incidents.errors import (
    IncidentConflict,
    InvalidIncidentValue,
    StaleVersion,
    UnknownAsset,
)
from outage.incidents.evidence import EvidenceRef
from outage.incidents.lifecycle import ACTIVE, CREW_AT_WORK, FINAL, IncidentStatus
from outage.incidents.models import Incident
from outage.incidents.outbox import incident_event
from outage.incidents.queries import _incident_out, _incident_query
from outage.incidents.recorded import record_incident
from outage.incidents.restoration import restore_by_switching
from outage.incidents.schemas import IncidentOut, IncidentPatch
from outage.incidents.steps import _audit, _checked_time, _label, _load, _move, _place, _relocate
from outage.intake.closing import close_reports, reopen_reports
from outage.outbox.enums import EventKind


@dataclass(frozen=True)
class _Context:
    session: Session
    incident: Incident
    patch: IncidentPatch
    actor: str
    live: LiveTopology

    def operated(self) -> Topology:
        """The network as operated now: what an incident's device feeds."""
        return self.live.get(self.session)


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
    """A crew or SCADA confirms the outage, at the predicted device or the one they found;
    the crew at work on it narrows its place down (`findings`)."""
    session, incident, device = context.session, context.incident, context.patch.device
    if device is not None and incident.status in CREW_AT_WORK:
        findings.found_at(
            session,
            incident,
            device,
            operated=context.operated(),
            actor=context.actor,
            reason=context.patch.reason,
        )
        return
    if device is not None:
        place = _place(session, device, None, None)
        reason = context.patch.reason or "the crew found the fault here"
        if _relocate(session, incident, place, actor=context.actor, reason=reason):
            incident.customers_affected = len(context.operated().downstream(device).accounts)
    _confirm(session, incident, actor=context.actor, reason=context.patch.reason)


def _do_assign(context: _Context) -> None:
    """That the crew exists is left to the incidents' foreign key, so incidents need not
    know what a crew is: the assignment is written in a savepoint that an unknown crew
    rolls back."""
    session, incident, crew_id = context.session, context.incident, context.patch.crew_id
    if incident.crew_id == crew_id and incident.status is IncidentStatus.DISPATCHED:
        raise IncidentConflict(f"crew {crew_id} is already assigned to incident {incident.id}")
    previous = incident.crew_id
    try:
        with session.begin_nested():
            _move(
                session,
                incident,
                IncidentStatus.DISPATCHED,
                AuditAction.ASSIGNED,
                actor=context.actor,
                reason=context.patch.reason,
                details={"crew_id": crew_id, "previous_crew_id": previous},
            )
            incident.crew_id = crew_id
            session.flush()
    except IntegrityError as exc:
        if "fk_incidents_crew_id" in str(exc.orig):
            raise InvalidIncidentValue(f"no crew {crew_id}") from exc
        raise


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
    if setback:  # the restoration did not hold: everyone is out again
        incident.restored_at = None
        incident.momentary = False
        incident.customers_restored = 0
        reopen_reports(context.session, incident.id)
    incident_event(context.session, incident, EventKind.CREW_ON_SITE)


def _accounts_below(context: _Context, asset_ref: str) -> frozenset[str]:
    incident = context.incident
    if incident.device_id is None:
        raise IncidentConflict(
            f"incident {incident.id} is not on a device: give restored_customers instead"
        )
    topology = context.operated()
    if asset_ref not in topology.network.links:
        raise UnknownAsset(f"no device with asset_ref {asset_ref!r}")
    faulted = _label(context.session, incident)["device"]
    if faulted not in topology.upstream(asset_ref).devices:
        raise IncidentConflict(f"{asset_ref} is not downstream of {faulted}")
    return frozenset(topology.downstream(asset_ref).accounts)


_TOLD_NOBODY = "nobody: a count names no customers"


def _do_partial_restore(context: _Context) -> None:
    """Customers below `restored_device` are back and are told so. A count alone
    (`restored_customers`, what a crew counted) says how many but not who: it is recorded
    for the reliability indices and tells nobody, as its audit row says; name the device,
    or use restored_by_switching, for the customers to hear it."""
    incident, patch = context.incident, context.patch
    at = _checked_time(incident, patch.at, "restoration time")
    back: frozenset[str] | None = None
    if patch.restored_device is not None:
        back = _accounts_below(context, patch.restored_device)
        step = len(back)
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
            "told": patch.restored_device or _TOLD_NOBODY,
        },
    )
    incident.customers_restored = total
    if back is not None:
        close_reports(context.session, incident.id, at, accounts=back)
    incident_event(
        context.session, incident, EventKind.RESTORED, below=patch.restored_device, at=at
    )
    record_incident(context.session, incident.id)


def _do_restored(context: _Context) -> None:
    _restore(
        context.session,
        context.incident,
        context.patch.at,
        actor=context.actor,
        reason=context.patch.reason,
    )


def _do_cancel(context: _Context) -> None:
    _cancel(context.session, context.incident, actor=context.actor, reason=context.patch.reason)


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
    record_incident(context.session, incident.id)


def _do_set_etr(context: _Context) -> None:
    patch = context.patch
    assert patch.etr is not None  # the schema requires it for set_etr
    setting = EtrSetting(
        context.incident.id, patch.etr, EtrSource(patch.etr_source), reason=patch.reason
    )
    changed = _set_etr(context.session, context.incident, setting, actor=context.actor)
    if not changed:
        raise IncidentConflict(f"incident {context.incident.id} has that ETR already")


def _do_move(context: _Context) -> None:
    assert context.patch.device is not None  # the schema requires it for move
    edits.move(
        context.session,
        context.incident,
        context.patch.device,
        operated=context.operated(),
        actor=context.actor,
        reason=context.patch.reason,
    )


def _do_split(context: _Context) -> None:
    patch = context.patch
    assert patch.device is not None  # the schema requires it for split
    evidence = [
        *(EvidenceRef.report(i) for i in patch.reports or ()),
        *(EvidenceRef.meter_event(i) for i in patch.meter_events or ()),
        *(EvidenceRef.scada_event(i) for i in patch.scada_events or ()),
    ]
    edits.split(
        context.session,
        context.incident,
        patch.device,
        evidence,
        operated=context.operated(),
        actor=context.actor,
        reason=patch.reason,
    )


def _do_merge(context: _Context) -> None:
    assert context.patch.merged_id is not None  # the schema requires it for merge
    edits.merge(
        context.session,
        context.incident,
        context.patch.merged_id,
        operated=context.operated(),
        actor=context.actor,
        reason=context.patch.reason,
    )


def _do_restored_by_switching(context: _Context) -> None:
    session, incident = context.session, context.incident
    back = restore_by_switching(
        session,
        incident.id,
        history=NetworkHistory.load(session, context.operated()),
        energized=context.live.energized(session),
        at=context.patch.at,
        actor=context.actor,
        reason=context.patch.reason,
    )
    if not back:
        raise IncidentConflict(
            f"no customer of incident {incident.id} has supply again: nothing to restore"
        )


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
    Action.MOVE: _do_move,
    Action.SPLIT: _do_split,
    Action.MERGE: _do_merge,
    Action.RESTORED_BY_SWITCHING: _do_restored_by_switching,
}


def apply_action(
    session: Session,
    incident_id: int,
    action: IncidentPatch,
    actor: str,
    *,
    live: LiveTopology | None = None,
) -> IncidentOut:
    """Apply one dispatcher or crew action and answer the incident as it is now.

    `live` is the process's network (the API's); without one the network is loaded from
    the database when an action needs it (counting customers below a device).
    """
    incident = _load(session, incident_id)
    if action.expected_version is not None and action.expected_version != incident.version:
        raise StaleVersion(
            f"incident {incident.id} is at version {incident.version}, not "
            f"{action.expected_version}: someone changed it meanwhile; reload and try again"
        )
    _ACTIONS[action.action](
        _Context(session, incident, action, actor, live if live is not None else LiveTopology())
    )
    session.flush()
    return incident_out(session, incident.id)


def incident_out(session: Session, incident_id: int) -> IncidentOut:
    row = session.execute(_incident_query().where(Incident.id == incident_id)).one()
    return _incident_out(row)
