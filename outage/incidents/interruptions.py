"""Per-customer interruption records: who an outage put out, and until when.

The rules that make records of an incident and its audit trail (`interruptions_of`, pure)
live here, beside the incidents, so that a restoration writes its records in its own
transaction (`outage.incidents.recorded`); reliability reads them, and derives the same
records again when it has to (`outage.reliability.records`).

- Only outages count: hazards (nobody need be out) and cancelled incidents (there was no
  such outage, or it was merged into another) make no records.
- Every customer below the incident's device (or at its premise, for a single-service
  outage) is out from the incident's start.
- A partial restoration by device gives the customers below that device their supply back
  at the time the crew gave; one by switching (`outage.incidents.restoration`) names its
  customers and gives exactly those theirs; one by a count of customers (the crew did not
  say which) restores that many of those still out, taken in account order:
  the counts and minutes are exact, which customers got them is a stand-in. A customer
  back within 5 minutes had a momentary interruption (MAIFI_E), not a sustained one.
- A setback (a restoration that did not hold: the crew back on site) puts everyone
  restored so far out again, from when it was recorded.
- Restoration gives everyone still out their supply back; an incident still active leaves
  its customers out until `as_of`, marked ongoing.
- A nested incident makes records of its own; those of a customer still out under the
  parent overlap the parent's and are merged (`merge_overlaps`), so the customer stays out
  until the nested incident is restored and has one interruption.

Who is below a device comes from the network as it was operated when the step happened
(`outage.grid.history`): at the incident's start for those it put out, at a partial
restoration's time for those it gave back. A feeder transferred through a tie before a
breaker tripped counts the transferred customers under that breaker. Customers and the
network's structure are those of now (the network keeps no history of them).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.history import NetworkHistory
from outage.grid.models import Customer, Device
from outage.grid.service import load_network
from outage.incidents.enums import AuditAction, IncidentKind
from outage.incidents.lifecycle import MOMENTARY_LIMIT, IncidentStatus
from outage.incidents.models import Incident, IncidentEvent


@dataclass(frozen=True, slots=True)
class InterruptionRecord:
    """One customer without supply from `start` to `end`, caused by event `event`."""

    customer: str
    start: datetime
    end: datetime
    event: str
    """The event that interrupted the customer ("incident/12", "planned/3"), for counting
    MAIFI_E events."""
    planned: bool = False
    ongoing: bool = False
    """Not restored yet: `end` is the time of the report."""

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def momentary(self) -> bool:
        return not self.ongoing and self.duration <= MOMENTARY_LIMIT


class Interruptions(tuple[InterruptionRecord, ...]):
    """Records as `merge_overlaps` leaves them: the index functions take them as they are,
    where other records are merged first."""


def merge_overlaps(records: Iterable[InterruptionRecord]) -> Interruptions:
    """One record per continuous loss of supply of each customer, in order of start.

    Records of a customer that overlap or touch become one, which keeps the event, the
    planned mark and the start of the earliest; it is ongoing if what ends it last is.
    """
    if isinstance(records, Interruptions):
        return records
    merged: list[InterruptionRecord] = []
    ordered = sorted(records, key=lambda r: (r.customer, r.start, r.end, r.event))
    for record in ordered:
        last = merged[-1] if merged else None
        if last is not None and last.customer == record.customer and record.start <= last.end:
            if record.end > last.end or (record.end == last.end and record.ongoing):
                merged[-1] = replace(last, end=record.end, ongoing=record.ongoing)
            continue
        merged.append(record)
    merged.sort(key=lambda r: (r.start, r.customer))
    return Interruptions(merged)


PLANNED_CAUSE_PREFIX = "planned"
"""An incident whose cause starts with this (any case) is a planned interruption."""


class StepKind(StrEnum):
    PARTIAL = "partial"
    RESTORED = "restored"
    SETBACK = "setback"


@dataclass(frozen=True)
class Step:
    """One change in who is out, as the incident's audit trail records it."""

    kind: StepKind
    at: datetime
    accounts: frozenset[str] | None = None
    """PARTIAL by device: the customers below the restored device."""
    count: int = 0
    """PARTIAL by count: how many customers are back."""


@dataclass(frozen=True)
class IncidentHistory:
    """What records are made of: who an incident put out, when, and each step after."""

    event: str
    """"incident/<id>" or "planned/<id>"."""
    started_at: datetime
    accounts: frozenset[str]
    steps: tuple[Step, ...]
    planned: bool = False


def interruptions_of(history: IncidentHistory, *, as_of: datetime) -> list[InterruptionRecord]:
    """The interruption records of one incident's customers (see the module's rules)."""
    out = dict.fromkeys(history.accounts, history.started_at)
    records: list[InterruptionRecord] = []

    def restore(accounts: list[str], at: datetime) -> None:
        for account in accounts:
            since = out.pop(account)
            records.append(
                InterruptionRecord(
                    customer=account,
                    start=since,
                    end=max(at, since),
                    event=history.event,
                    planned=history.planned,
                )
            )

    for step in history.steps:
        if step.kind is StepKind.PARTIAL:
            if step.accounts is not None:
                restore(sorted(step.accounts & out.keys()), step.at)
            else:
                restore(sorted(out)[: step.count], step.at)
        elif step.kind is StepKind.RESTORED:
            restore(sorted(out), step.at)
        else:
            for account in history.accounts - out.keys():
                out[account] = step.at
    for account, since in out.items():
        if since < as_of:
            records.append(
                InterruptionRecord(
                    customer=account,
                    start=since,
                    end=as_of,
                    event=history.event,
                    planned=history.planned,
                    ongoing=True,
                )
            )
    return records


def _is_planned(cause: str | None) -> bool:
    return cause is not None and cause.strip().lower().startswith(PLANNED_CAUSE_PREFIX)


OUTAGES: ColumnElement[bool] = and_(
    Incident.kind == IncidentKind.OUTAGE, Incident.status != IncidentStatus.CANCELLED
)
"""The incidents that make records."""


def in_window(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Outages that may have kept someone out between `start` and `end`."""
    return and_(
        OUTAGES,
        Incident.started_at < end,
        or_(Incident.restored_at.is_(None), Incident.restored_at >= start),
    )


_STEP_ACTIONS = (
    AuditAction.PARTIALLY_RESTORED,
    AuditAction.RESTORED,
    AuditAction.REOPENED,
    AuditAction.ON_SITE,
)


def _step(
    action: AuditAction,
    from_status: IncidentStatus | None,
    at: datetime,
    details: dict[str, Any],
    below: Callable[[str, datetime], frozenset[str]],
) -> Step | None:
    """The step an audit row records, if it changes who is out."""
    if action is AuditAction.PARTIALLY_RESTORED:
        device = details.get("restored_device")
        named = details.get("accounts")
        restored_at = datetime.fromisoformat(details["at"])
        if named is not None:
            accounts: frozenset[str] | None = frozenset(named)
        else:
            accounts = below(device, restored_at) if device else None
        return Step(
            StepKind.PARTIAL,
            restored_at,
            accounts=accounts,
            count=int(details.get("restored_customers") or 0),
        )
    if action is AuditAction.RESTORED:
        return Step(StepKind.RESTORED, datetime.fromisoformat(details["at"]))
    if action is AuditAction.REOPENED or (
        action is AuditAction.ON_SITE and from_status is IncidentStatus.PARTIALLY_RESTORED
    ):
        return Step(StepKind.SETBACK, at)
    return None


class Below:
    """Customers below a device at a moment, on the network as operated then; each
    device is traced once per switching state."""

    def __init__(self, session: Session, topology: Topology | None) -> None:
        self._session = session
        self._now = topology
        self._history: NetworkHistory | None = None
        self._found: dict[tuple[int, str], frozenset[str]] = {}

    def __call__(self, asset_ref: str, at: datetime) -> frozenset[str]:
        if self._history is None:
            now = self._now or Topology(load_network(self._session))
            self._history = NetworkHistory.load(self._session, now)
        topology = self._history.at(at)
        key = (id(topology), asset_ref)  # the history keeps every topology it made alive
        if key not in self._found:
            known = asset_ref in topology.network.links
            self._found[key] = topology.downstream(asset_ref).accounts if known else frozenset()
        return self._found[key]


def incident_histories(
    session: Session, window: ColumnElement[bool], below: Below
) -> list[IncidentHistory]:
    """The histories of the incidents `window` selects (of `OUTAGES`, see `in_window`)."""
    at_premise: dict[int, set[str]] = {}
    for premise_id, account in session.execute(
        select(Customer.premise_id, Customer.account).where(
            Customer.premise_id.in_(select(Incident.premise_id).where(window))
        )
    ):
        at_premise.setdefault(premise_id, set()).add(account)

    steps: dict[int, list[Step]] = {}
    for incident_id, action, from_status, at, details in session.execute(
        select(
            IncidentEvent.incident_id,
            IncidentEvent.action,
            IncidentEvent.from_status,
            IncidentEvent.at,
            IncidentEvent.details,
        )
        .join(Incident, Incident.id == IncidentEvent.incident_id)
        .where(window, IncidentEvent.action.in_(_STEP_ACTIONS))
        .order_by(IncidentEvent.incident_id, IncidentEvent.id)
    ):
        step = _step(action, from_status, at, details, below)
        if step is not None:
            steps.setdefault(incident_id, []).append(step)

    histories = []
    for incident_id, started_at, cause, asset_ref, premise_id in session.execute(
        select(
            Incident.id, Incident.started_at, Incident.cause, Device.asset_ref, Incident.premise_id
        )
        .outerjoin(Device, Device.id == Incident.device_id)
        .where(window)
        .order_by(Incident.id)
    ):
        if asset_ref is not None:
            accounts = below(asset_ref, started_at)
        else:
            accounts = frozenset(at_premise.get(premise_id, ()))
        histories.append(
            IncidentHistory(
                event=f"incident/{incident_id}",
                started_at=started_at,
                accounts=accounts,
                steps=tuple(steps.get(incident_id, ())),
                planned=_is_planned(cause),
            )
        )
    return histories
