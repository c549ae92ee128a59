"""Reading the evidence the engine reasons over, in one place: reports, meters, SCADA.

Evidence is *active* while it can still change an incident: reports of open incidents,
reports not yet attached that arrived within the time window, the latest meter event of
each premise within the window (its current state), and each protective device's SCADA
events and each premise's meter events within the window (with the last one before it),
read by event time as the intervals it was open, or off. Events that arrived within the
window are read too, whatever their own time (a late batch, accepted up to
`event_max_age_hours` old), so a backfilled outage is seen whole.

An engine working some regions reads their evidence alone (a `Scope`): reports and meter
events by their premise's feeder, SCADA events by their device. Reports and meter events
are first narrowed by their substation key (`Scope.keys`), through its index, so N
engines do not each read the whole network's window (and under Citus each reads its own
shards).
"""

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.models import Customer, Device, Premise
from outage.grid.regions import Scope
from outage.incidents.evidence import EvidenceRef
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.intake.enums import OUTAGE_CODES, ReportStatus, SwitchState
from outage.intake.models import MeterEvent, Report, ScadaEvent
from outage.prediction.hazards import HazardReport, hazard_reports
from outage.prediction.inference import OUT_KINDS, Evidence, EvidenceKind
from outage.prediction.meters import supply_event
from outage.prediction.switching import Interval, SwitchEvent, outage_intervals

_COUNTED = (ReportStatus.RECEIVED, ReportStatus.DUPLICATE)


@dataclass
class EvidenceSet:
    items: list[Evidence] = field(default_factory=list)
    refs: dict[str, list[EvidenceRef]] = field(default_factory=lambda: defaultdict(list))
    """Account -> the reports and meter events behind its evidence."""
    first_seen: dict[str, datetime] = field(default_factory=dict)
    last_out: dict[str, datetime] = field(default_factory=dict)
    """Account -> its latest evidence of being without supply (a call, a last gasp)."""
    known_out: dict[str, EvidenceRef] = field(default_factory=dict)
    """Device -> the SCADA event that says it is open."""
    opened_at: dict[str, datetime] = field(default_factory=dict)
    """Device still open -> when it opened, by the SCADA event's own time."""
    switching: dict[str, list[Interval]] = field(default_factory=dict)
    """Protective device -> the intervals SCADA says it was open, in event-time order."""
    meters: dict[str, list[Interval]] = field(default_factory=dict)
    """Account -> the intervals its meter says it was off, in event-time order."""
    hazards: list[HazardReport] = field(default_factory=list)

    def add(self, account: str, kind: EvidenceKind, ref: EvidenceRef, at: datetime) -> None:
        """Called once per customer with evidence on every cycle, a storm's hundred thousand
        times: written for speed."""
        self.items.append(Evidence(account, kind))
        self.refs[account].append(ref)
        seen = self.first_seen.get(account)
        if seen is None or at < seen:
            self.first_seen[account] = at
        if kind in OUT_KINDS:
            out = self.last_out.get(account)
            if out is None or at > out:
                self.last_out[account] = at

    def without_outages_of(self, accounts: Collection[str]) -> None:
        """Drop these customers' evidence of being without supply: it is over for them."""
        gone = set(accounts)
        self.items = [e for e in self.items if not (e.kind in OUT_KINDS and e.account in gone)]
        for account in gone:
            self.last_out.pop(account, None)


def gather(
    session: Session, *, now: datetime, window: timedelta, scope: Scope | None = None
) -> EvidenceSet:
    since = now - window
    found = EvidenceSet()
    placed = hazard_reports()
    if scope is not None:  # by where its customer is now, as meter events are
        placed = (
            placed.outerjoin(
                Premise, Premise.id == func.coalesce(Customer.premise_id, Report.premise_id)
            )
            .where(Report.substation_id.in_(scope.keys))
            .where(scope.holds_feeder(func.coalesce(Premise.feeder_id, Report.feeder_id)))
        )
    reports = session.execute(
        placed.outerjoin(Incident, Incident.id == Report.incident_id).where(
            Report.service_code.in_(OUTAGE_CODES),
            or_(
                Report.status.in_(_COUNTED),
                # a hazard does not wait for an agent to place it
                (Report.status == ReportStatus.NEEDS_AGENT) & Report.hazard.is_not(None),
            ),
            or_(
                (Report.incident_id.is_(None)) & (Report.received_at >= since),
                Incident.status.in_(sorted(ACTIVE)),
            ),
        )
    )
    meters = _meters(session, since, scope)
    for row in reports:
        report_id, account, _, hazard, received_at, _, _ = row
        if hazard is not None:
            found.hazards.append(HazardReport(*row))
        if account is not None and not _metered_back(account, received_at, meters):
            found.add(account, EvidenceKind.CALL, EvidenceRef.report(report_id), received_at)
    for account, (intervals, latest) in meters.items():
        found.meters[account] = intervals
        if latest is None:
            continue
        if latest.state is SwitchState.OPEN:
            gasp = intervals[-1].opened or latest  # the first of its run of gasps
            found.add(account, EvidenceKind.LAST_GASP, EvidenceRef.meter_event(gasp.id), gasp.at)
        elif found.last_out.get(account, latest.at) <= latest.at:  # a later call: stale
            found.add(account, EvidenceKind.LIVE, EvidenceRef.meter_event(latest.id), latest.at)
    for asset_ref, intervals in _switching(session, since, scope).items():
        found.switching[asset_ref] = intervals
        last = intervals[-1]
        if last.opened is not None and last.closed_at is None:
            found.known_out[asset_ref] = EvidenceRef.scada_event(last.opened.id)
            found.opened_at[asset_ref] = last.opened.at
    return found


def _metered_back(
    account: str,
    called_at: datetime,
    meters: dict[str, tuple[list[Interval], SwitchEvent | None]],
) -> bool:
    """The customer's meter said power is back after they called: the call tells of an
    outage that is over for them."""
    _, latest = meters.get(account, ([], None))
    return latest is not None and latest.state is SwitchState.CLOSED and latest.at > called_at


def refed_by_switching(
    energized: Topology,
    last_out: Mapping[str, datetime],
    closed_at: Mapping[str, datetime],
) -> set[str]:
    """Customers an operator's switching fed again after their latest evidence of being
    out: they have supply now, through a device an operator closed since (a tie, a
    section put back). Their calls and gasps tell of an outage over for them, which on the
    network as switched now would point at whatever feeds them now. A trip reclosed by
    SCADA is not switching: customers still out below it are the engine's to find.

    Walked from the few devices operators closed, not from the many customers out: a storm
    of a hundred thousand last gasps costs nothing here when nobody switched."""
    refed = set()
    links = energized.network.links
    for device, closed in closed_at.items():
        if device not in links:
            continue
        for account in energized.downstream(device).accounts:
            at = last_out.get(account)
            if at is not None and closed > at:
                refed.add(account)
    return refed


def _switching(session: Session, since: datetime, scope: Scope | None) -> dict[str, list[Interval]]:
    """Each protective device's open intervals from its events since `since`, and the last
    event before it (a device open since before the window is still open). A device with
    events that arrived since `since` but happened before is read from the earliest of
    them: a late batch is applied by its own times."""
    late = (
        select(ScadaEvent.device_id, func.min(ScadaEvent.occurred_at).label("start"))
        .where(ScadaEvent.received_at >= since, ScadaEvent.occurred_at < since)
        .group_by(ScadaEvent.device_id)
        .subquery()
    )
    columns = (ScadaEvent.id, Device.asset_ref, ScadaEvent.state, ScadaEvent.occurred_at)
    protective = select(*columns).join(Device, Device.id == ScadaEvent.device_id)
    protective = protective.where(Device.is_protective)
    if scope is not None:
        protective = protective.where(
            scope.holds_device(Device.id, Device.feeder_id, Device.substation_id)
        )
    before = (
        protective.outerjoin(late, late.c.device_id == ScadaEvent.device_id)
        .where(ScadaEvent.occurred_at < func.coalesce(late.c.start, since))
        .order_by(ScadaEvent.device_id, ScadaEvent.occurred_at.desc(), ScadaEvent.id.desc())
        .distinct(ScadaEvent.device_id)
    )
    backfill = protective.join(late, late.c.device_id == ScadaEvent.device_id).where(
        ScadaEvent.occurred_at >= late.c.start, ScadaEvent.occurred_at < since
    )
    within = protective.where(ScadaEvent.occurred_at >= since)
    events: dict[str, list[SwitchEvent]] = defaultdict(list)
    for query in (before, backfill, within):
        for event_id, asset_ref, state, occurred_at in session.execute(query):
            events[asset_ref].append(SwitchEvent(event_id, state, occurred_at))
    intervals = {ref: outage_intervals(device_events) for ref, device_events in events.items()}
    return {ref: found for ref, found in intervals.items() if found}


def _meters(
    session: Session, since: datetime, scope: Scope | None
) -> dict[str, tuple[list[Interval], SwitchEvent | None]]:
    """Each account's off intervals from its premise's meter events since `since` (and the
    last one before, which may begin an interval), with its latest event since `since`:
    its current state (None when it has none). As for SCADA, a premise with events that
    arrived since `since` but happened before is read from the earliest of them."""
    keyed = true() if scope is None else MeterEvent.substation_id.in_(scope.keys)
    late = (
        select(MeterEvent.premise_id, func.min(MeterEvent.occurred_at).label("start"))
        .where(keyed, MeterEvent.received_at >= since, MeterEvent.occurred_at < since)
        .group_by(MeterEvent.premise_id)
        .subquery()
    )
    columns = (MeterEvent.id, Customer.account, MeterEvent.kind, MeterEvent.occurred_at)
    events = select(*columns).join(Customer, Customer.premise_id == MeterEvent.premise_id)
    if scope is not None:
        events = events.join(Premise, Premise.id == MeterEvent.premise_id).where(
            keyed, scope.holds_feeder(Premise.feeder_id)
        )
    recent = select(MeterEvent.premise_id).where(keyed, MeterEvent.occurred_at >= since)
    before = (
        events.outerjoin(late, late.c.premise_id == MeterEvent.premise_id)
        .where(
            MeterEvent.occurred_at < func.coalesce(late.c.start, since),
            or_(MeterEvent.premise_id.in_(recent), late.c.premise_id.is_not(None)),
        )
        .order_by(
            MeterEvent.premise_id,
            Customer.account,
            MeterEvent.occurred_at.desc(),
            MeterEvent.id.desc(),
        )
        .distinct(MeterEvent.premise_id, Customer.account)
    )
    backfill = events.join(late, late.c.premise_id == MeterEvent.premise_id).where(
        MeterEvent.occurred_at >= late.c.start, MeterEvent.occurred_at < since
    )
    within = events.where(MeterEvent.occurred_at >= since)
    history: dict[str, list[SwitchEvent]] = defaultdict(list)
    latest: dict[str, SwitchEvent] = {}
    connection = session.connection()  # plain rows: an ORM result costs twice per storm's row
    for query in (before, backfill, within):
        for event_id, account, kind, occurred_at in connection.execute(query):
            event = supply_event(event_id, kind, occurred_at)
            history[account].append(event)
            if occurred_at >= since and (
                account not in latest or (event.at, event.id) > _order(latest[account])
            ):
                latest[account] = event
    return {
        account: (outage_intervals(account_events), latest.get(account))
        for account, account_events in history.items()
    }


def _order(event: SwitchEvent) -> tuple[datetime, int]:
    return event.at, event.id
