"""The after-action report of a storm or any period: how the outage went, hour by hour,
how the crews were used, how good the restoration times told were, how fast customers
heard, and what was sent.

One entry point, `after_action`, for a period ([start, end), at most `MAX_PERIOD`) or a
storm (from its declaration to its end, or to now while it is on). The figures follow
these rules:

- Timeline: customers out at the start of each hour, as the supervisor's live panel counts
  them (`outage.incidents.live.customers_out_series`: outages only, a nested incident's
  customers under its parent while the parent is out, partial restorations from the
  audit trail); incidents opened and restored in each hour are outages, cancelled ones
  (merged or no outage after all) left out.
- Crew utilisation: a crew's hours on shift in the period (its shifts, overlaps once)
  beside its hours on jobs. A job runs from the audit trail's `assigned` (or, with no
  assignment before it, `en_route`, `on_site` or `reopened`) naming the crew to the first
  of: the incident restored (at the restoration time told), unassigned, assigned to
  another crew, cancelled, merged or closed; still open, to the end of the period. A
  crew's jobs that overlap count once. Hours on jobs off shift count too, so the share
  may pass 1.
- ETR accuracy: of the outages restored in the period, those told an ETR (the audit
  trail's `etr_set`): the first one told against the restoration (signed error, late
  positive; the median of the absolute errors), and, where the first one had a likely
  range, whether the restoration came by its latest time (coverage).
- ETR lapses: an ETR told (any, for an outage not cancelled) lapses when its deadline (its
  latest time, else the time itself) passed in the period while the outage was still on
  and no newer ETR had been told before it passed.
- Customers told in time: of the outages begun in the period, the customers affected,
  and of them those whose first message about the outage (`outage_detected`, `etr_set`
  or `etr_changed`, counted when it was sent, not when it was queued) went within
  `TOLD_WITHIN` of the outage's start; one customer counts once per outage, and no
  outage counts more customers told than it affected.
- Notifications: messages sent in the period (by their `sent_at`), by kind and channel.

The report's types are the seam for a replay: re-running the engine and the planner over
the recorded evidence would give another `AfterAction` to set beside this one.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from outage import clock
from outage.crews.models import Crew, CrewShift
from outage.crews.plan_inputs import PLANNER
from outage.errors import Invalid
from outage.incidents import live as incidents_live
from outage.incidents.enums import AuditAction, IncidentKind
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident, IncidentEvent
from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.models import Notification
from outage.outbox.enums import EventKind
from outage.reliability.service import InvalidPeriod, Moment, period_bounds
from outage.storms.enums import StormAction
from outage.storms.errors import StormNotFound
from outage.storms.models import Storm, StormEvent

MAX_PERIOD = timedelta(days=62)
"""Longer periods are refused: the report is hourly, and a storm lasts days, not months."""
HOUR = timedelta(hours=1)
TOLD_WITHIN = timedelta(minutes=15)
"""A customer told this soon after their outage began was told in time."""
FIRST_MESSAGES = (EventKind.OUTAGE_DETECTED, EventKind.ETR_SET, EventKind.ETR_CHANGED)
"""The messages that tell a customer of their outage."""

_JOB_START = frozenset({AuditAction.EN_ROUTE, AuditAction.ON_SITE, AuditAction.REOPENED})
_JOB_END = frozenset(
    {AuditAction.UNASSIGNED, AuditAction.CANCELLED, AuditAction.MERGED, AuditAction.CLOSED}
)
_JOB_TRAIL = (AuditAction.ASSIGNED, AuditAction.RESTORED, *_JOB_START, *_JOB_END)


class InvalidAfterAction(Invalid, ValueError):
    """A report that cannot be made: no period, or both a period and a storm."""


# The report


@dataclass(frozen=True)
class StormMark:
    """A step of the storm: declared, a level or phase set, its times set, ended."""

    at: datetime
    action: StormAction
    level: int | None
    phase: str | None


@dataclass(frozen=True)
class StormSummary:
    id: int
    name: str
    level: int
    declared_at: datetime
    ended_at: datetime | None
    marks: tuple[StormMark, ...]


@dataclass(frozen=True)
class Hour:
    at: datetime
    """The start of the hour (from the period's start)."""
    customers_out: int
    """Customers out at `at`."""
    opened: int
    restored: int


@dataclass(frozen=True)
class CrewUse:
    crew_id: int
    name: str
    shift_hours: float
    job_hours: float
    utilisation: float | None
    """Job hours over shift hours; None without shift hours in the period."""


@dataclass(frozen=True)
class FirstEtr:
    """The first ETR an outage restored in the period was told, against its restoration."""

    incident_id: int
    told_at: datetime
    etr: datetime
    latest: datetime | None
    restored_at: datetime
    error_minutes: float
    """Restoration minus ETR: positive when the restoration came later than told."""
    covered: bool | None
    """Restored by the likely range's latest time; None without a range."""


@dataclass(frozen=True)
class EtrLapse:
    incident_id: int
    told_at: datetime
    deadline: datetime
    """The told range's latest time, else the ETR itself: it passed with the outage on."""


@dataclass(frozen=True)
class EtrAccuracy:
    restored: int
    """Outages restored in the period."""
    told: int
    """Of those, the ones told an ETR."""
    median_abs_error_minutes: float | None
    ranged: int
    """Of those told, the ones whose first ETR had a likely range."""
    covered: int
    coverage: float | None
    firsts: tuple[FirstEtr, ...]
    lapses: tuple[EtrLapse, ...]
    lapsed_incidents: int


@dataclass(frozen=True)
class ToldInTime:
    outages: int
    customers_affected: int
    customers_told: int
    """Told within `TOLD_WITHIN` of their outage's start."""
    share: float | None


@dataclass(frozen=True)
class NotificationCount:
    kind: EventKind
    channel: DeliveryChannel
    sent: int


@dataclass(frozen=True)
class AfterAction:
    start: datetime
    end: datetime
    """The period is [start, end)."""
    as_of: datetime
    """Figures stop here when the period (or storm) has not ended."""
    storm: StormSummary | None
    timeline: tuple[Hour, ...]
    crews: tuple[CrewUse, ...]
    etr: EtrAccuracy
    told: ToldInTime
    notifications: tuple[NotificationCount, ...]


# Pure helpers


@dataclass(frozen=True)
class TrailStep:
    """One row of an incident's audit trail, as the crews' jobs read it."""

    at: datetime
    action: AuditAction
    crew_id: int | None
    restored_at: datetime | None = None
    by_planner: bool = False
    """Written by the dispatch planner (its assignments are a plan, not a dispatch)."""


Span = tuple[datetime, datetime]


def job_spans(trail: Sequence[TrailStep], until: datetime) -> list[tuple[int, Span]]:
    """The (crew, span) of each job in one incident's trail (the rule in the module's
    docstring); a job still open ends at `until`."""
    spans: list[tuple[int, Span]] = []
    crew: int | None = None
    since: datetime | None = None

    def close(at: datetime) -> None:
        nonlocal crew, since
        if crew is not None and since is not None:
            spans.append((crew, (since, max(since, at))))
        crew, since = None, None

    for step in sorted(trail, key=lambda s: s.at):
        if step.action is AuditAction.ASSIGNED and step.crew_id is not None:
            close(step.at)
            crew, since = step.crew_id, step.at
        elif step.action in _JOB_START and step.crew_id is not None and crew is None:
            crew, since = step.crew_id, step.at
        elif step.action is AuditAction.RESTORED:
            close(step.restored_at or step.at)
        elif step.action in _JOB_END:
            close(step.at)
    close(max(until, since) if since is not None else until)
    return spans


def hours_within(spans: Iterable[Span], start: datetime, end: datetime) -> float:
    """Hours of [start, end) the spans cover, overlaps counted once."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans if a < end and b > start)
    total = timedelta()
    current: Span | None = None
    for a, b in clipped:
        if current is None or a > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (a, b)
        else:
            current = (current[0], max(current[1], b))
    if current is not None:
        total += current[1] - current[0]
    return total / HOUR


@dataclass(frozen=True)
class ToldEtr:
    """An ETR told, from the audit trail's `etr_set`."""

    told_at: datetime
    etr: datetime
    latest: datetime | None

    @property
    def deadline(self) -> datetime:
        return self.latest or self.etr


def told_etr(at: datetime, details: Mapping[str, Any]) -> ToldEtr:
    latest = details.get("latest")
    return ToldEtr(
        at,
        datetime.fromisoformat(details["etr"]),
        datetime.fromisoformat(latest) if latest else None,
    )


def etr_lapses(
    told: Sequence[ToldEtr],
    restored_at: datetime | None,
    start: datetime,
    end: datetime,
    withdrawn: Sequence[datetime] = (),
) -> list[ToldEtr]:
    """The ETRs whose deadline passed in [start, end) with the outage still on and no newer
    ETR told before it passed, nor the ETR withdrawn (a storm's region being assessed:
    its customers are told so instead)."""
    ordered = sorted(told, key=lambda t: t.told_at)
    lapsed = []
    for i, etr in enumerate(ordered):
        later = [t.told_at for t in ordered[i + 1 :]] + [w for w in withdrawn if w > etr.told_at]
        replaced_at = min(later, default=None)
        if not start <= etr.deadline < end:
            continue
        if restored_at is not None and restored_at <= etr.deadline:
            continue
        if replaced_at is not None and replaced_at <= etr.deadline:
            continue
        lapsed.append(etr)
    return lapsed


def first_etr(incident_id: int, told: Sequence[ToldEtr], restored_at: datetime) -> FirstEtr | None:
    """The first ETR told against the restoration; None when none was told."""
    if not told:
        return None
    first = min(told, key=lambda t: t.told_at)
    return FirstEtr(
        incident_id=incident_id,
        told_at=first.told_at,
        etr=first.etr,
        latest=first.latest,
        restored_at=restored_at,
        error_minutes=round((restored_at - first.etr) / timedelta(minutes=1), 1),
        covered=None if first.latest is None else restored_at <= first.latest,
    )


def accuracy(firsts: Sequence[FirstEtr], restored: int, lapses: Sequence[EtrLapse]) -> EtrAccuracy:
    ranged = [f for f in firsts if f.covered is not None]
    covered = sum(bool(f.covered) for f in ranged)
    errors = [abs(f.error_minutes) for f in firsts]
    return EtrAccuracy(
        restored=restored,
        told=len(firsts),
        median_abs_error_minutes=round(statistics.median(errors), 1) if errors else None,
        ranged=len(ranged),
        covered=covered,
        coverage=covered / len(ranged) if ranged else None,
        firsts=tuple(firsts),
        lapses=tuple(lapses),
        lapsed_incidents=len({lapse.incident_id for lapse in lapses}),
    )


def told_in_time(started_at: datetime, affected: int, first_sent: Mapping[int, datetime]) -> int:
    """How many of an outage's customers were first told within `TOLD_WITHIN` of its
    start (at most those it affected)."""
    deadline = started_at + TOLD_WITHIN
    return min(affected, sum(sent <= deadline for sent in first_sent.values()))


def hour_buckets(moments: Iterable[datetime], start: datetime, hours: int) -> list[int]:
    """How many of `moments` fall in each of `hours` hours from `start`."""
    counts = [0] * hours
    for moment in moments:
        index = int((moment - start) // HOUR)
        if 0 <= index < hours:
            counts[index] += 1
    return counts


# The service


def _storm(session: Session, storm_id: int) -> StormSummary:
    storm = session.get(Storm, storm_id)
    if storm is None:
        raise StormNotFound(f"no storm {storm_id}")
    marks = tuple(
        StormMark(e.at, e.action, e.details.get("level"), e.details.get("phase"))
        for e in session.scalars(
            select(StormEvent)
            .where(StormEvent.storm_id == storm_id)
            .order_by(StormEvent.at, StormEvent.id)
        )
    )
    return StormSummary(storm.id, storm.name, storm.level, storm.declared_at, storm.ended_at, marks)


def report_period(
    session: Session,
    start: Moment | None,
    end: Moment | None,
    storm: int | None,
    zone: tzinfo,
    as_of: datetime,
) -> tuple[datetime, datetime, StormSummary | None]:
    if storm is not None:
        if start is not None or end is not None:
            raise InvalidAfterAction("ask for a storm or for a period, not both")
        summary = _storm(session, storm)
        begin, finish = summary.declared_at, summary.ended_at or as_of
        if finish <= begin:
            raise InvalidPeriod(f"storm {storm} has no time to report on yet")
    else:
        if start is None or end is None:
            raise InvalidAfterAction("ask for a storm, or for a period with a start and an end")
        begin, finish = period_bounds(start, end, zone=zone, as_of=as_of)
        summary = None
    if finish - begin > MAX_PERIOD:
        raise InvalidPeriod(f"an after-action report covers at most {MAX_PERIOD.days} days")
    return begin, finish, summary


def _timeline(session: Session, start: datetime, limit: datetime) -> tuple[Hour, ...]:
    hours = max(1, -(-(limit - start) // HOUR))
    series = incidents_live.customers_out_series(session, since=start, now=limit, step=HOUR)
    outages = (Incident.kind == IncidentKind.OUTAGE, Incident.status != IncidentStatus.CANCELLED)
    opened = session.scalars(
        select(Incident.started_at).where(
            *outages, Incident.started_at >= start, Incident.started_at < limit
        )
    )
    restored = session.scalars(
        select(Incident.restored_at).where(
            *outages, Incident.restored_at >= start, Incident.restored_at < limit
        )
    )
    opened_by_hour = hour_buckets(opened, start, hours)
    restored_by_hour = hour_buckets((r for r in restored if r is not None), start, hours)
    return tuple(
        Hour(start + HOUR * i, series[i].customers, opened_by_hour[i], restored_by_hour[i])
        for i in range(hours)
    )


def crew_trails(
    session: Session, incidents: Select[tuple[int]] | Sequence[int], actions: Sequence[AuditAction]
) -> dict[int, list[TrailStep]]:
    """The audit trail of the incidents (ids, or a query of them) as crews' jobs read it:
    these actions, with the crew each names and a restoration's own time."""
    trails: dict[int, list[TrailStep]] = defaultdict(list)
    for event in session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id.in_(incidents), IncidentEvent.action.in_(actions))
        .order_by(IncidentEvent.incident_id, IncidentEvent.at, IncidentEvent.id)
    ):
        crew = event.details.get("crew_id")
        restored = event.details.get("at") if event.action is AuditAction.RESTORED else None
        trails[event.incident_id].append(
            TrailStep(
                event.at,
                event.action,
                int(crew) if crew is not None else None,
                datetime.fromisoformat(restored) if restored else None,
                by_planner=event.actor == PLANNER,
            )
        )
    return trails


def _crews(session: Session, start: datetime, limit: datetime) -> tuple[CrewUse, ...]:
    shifts: dict[int, list[Span]] = defaultdict(list)
    for crew_id, starts_at, ends_at in session.execute(
        select(CrewShift.crew_id, CrewShift.starts_at, CrewShift.ends_at).where(
            CrewShift.starts_at < limit, CrewShift.ends_at > start
        )
    ):
        shifts[crew_id].append((starts_at, ends_at))
    assigned = exists().where(
        IncidentEvent.incident_id == Incident.id,
        IncidentEvent.action == AuditAction.ASSIGNED,
        IncidentEvent.at < limit,
    )
    incidents = select(Incident.id).where(
        assigned,
        or_(Incident.restored_at.is_(None), Incident.restored_at >= start),
        or_(Incident.status != IncidentStatus.CANCELLED, Incident.updated_at >= start),
    )
    trails = crew_trails(session, incidents, _JOB_TRAIL)
    jobs: dict[int, list[Span]] = defaultdict(list)
    for trail in trails.values():
        for crew_id, span in job_spans(trail, limit):
            jobs[crew_id].append(span)
    ids = set(shifts) | set(jobs)
    names = dict(session.execute(select(Crew.id, Crew.name).where(Crew.id.in_(ids))).tuples().all())
    uses = []
    for crew_id in ids:
        on_shift = hours_within(shifts[crew_id], start, limit)
        on_jobs = hours_within(jobs[crew_id], start, limit)
        if on_shift == 0 and on_jobs == 0:
            continue
        uses.append(
            CrewUse(
                crew_id,
                names.get(crew_id, str(crew_id)),
                round(on_shift, 2),
                round(on_jobs, 2),
                on_jobs / on_shift if on_shift else None,
            )
        )
    return tuple(sorted(uses, key=lambda u: (u.name, u.crew_id)))


def _etr(session: Session, start: datetime, limit: datetime) -> EtrAccuracy:
    outages = select(Incident.id, Incident.restored_at).where(
        Incident.kind == IncidentKind.OUTAGE,
        Incident.status != IncidentStatus.CANCELLED,
        Incident.started_at < limit,
        or_(Incident.restored_at.is_(None), Incident.restored_at >= start),
    )
    found = dict(session.execute(outages).tuples().all())
    told: dict[int, list[ToldEtr]] = defaultdict(list)
    withdrawn: dict[int, list[datetime]] = defaultdict(list)
    for event in session.scalars(
        select(IncidentEvent).where(
            IncidentEvent.incident_id.in_(list(found)),
            IncidentEvent.action == AuditAction.ETR_SET,
            IncidentEvent.at < limit,
        )
    ):
        if event.details.get("withdrawn"):
            withdrawn[event.incident_id].append(event.at)
        else:
            told[event.incident_id].append(told_etr(event.at, event.details))
    restored = {
        incident: at for incident, at in found.items() if at is not None and start <= at < limit
    }
    firsts = [
        first
        for incident, at in sorted(restored.items())
        if (first := first_etr(incident, told[incident], at)) is not None
    ]
    lapses = [
        EtrLapse(incident, etr.told_at, etr.deadline)
        for incident in sorted(told)
        for etr in etr_lapses(told[incident], found[incident], start, limit, withdrawn[incident])
    ]
    return accuracy(firsts, len(restored), lapses)


def _told(session: Session, start: datetime, limit: datetime) -> ToldInTime:
    outages = dict(
        (row[0], (row[1], row[2]))
        for row in session.execute(
            select(Incident.id, Incident.started_at, Incident.customers_affected).where(
                Incident.kind == IncidentKind.OUTAGE,
                Incident.status != IncidentStatus.CANCELLED,
                Incident.started_at >= start,
                Incident.started_at < limit,
            )
        )
    )
    first_sent: dict[int, dict[int, datetime]] = defaultdict(dict)
    for incident, customer, sent in session.execute(
        select(Notification.incident_id, Notification.customer_id, func.min(Notification.sent_at))
        .where(
            Notification.incident_id.in_(list(outages)),
            Notification.customer_id.is_not(None),
            Notification.kind.in_(FIRST_MESSAGES),
            Notification.status == DeliveryStatus.SENT,
        )
        .group_by(Notification.incident_id, Notification.customer_id)
    ):
        first_sent[incident][customer] = sent
    affected = sum(a for _, a in outages.values())
    told = sum(
        told_in_time(started, a, first_sent.get(incident, {}))
        for incident, (started, a) in outages.items()
    )
    return ToldInTime(len(outages), affected, told, told / affected if affected else None)


def _notifications(
    session: Session, start: datetime, limit: datetime
) -> tuple[NotificationCount, ...]:
    counted = Counter(
        {
            (kind, channel): n
            for kind, channel, n in session.execute(
                select(Notification.kind, Notification.channel, func.count())
                .where(
                    and_(
                        Notification.status == DeliveryStatus.SENT,
                        Notification.sent_at >= start,
                        Notification.sent_at < limit,
                    )
                )
                .group_by(Notification.kind, Notification.channel)
            )
        }
    )
    return tuple(
        NotificationCount(kind, channel, n)
        for (kind, channel), n in sorted(counted.items(), key=lambda item: item[0])
    )


def after_action(
    session: Session,
    *,
    start: Moment | None = None,
    end: Moment | None = None,
    storm: int | None = None,
    zone: tzinfo,
    as_of: datetime | None = None,
) -> AfterAction:
    """The after-action report of [start, end) (days are whole local days, as the
    reliability report reads them) or of a storm; a bad period is an `InvalidPeriod`, an
    unknown storm a `StormNotFound`."""
    now = as_of or clock.now()
    begin, finish, summary = report_period(session, start, end, storm, zone, now)
    limit = min(finish, now)
    return AfterAction(
        start=begin,
        end=finish,
        as_of=now,
        storm=summary,
        timeline=_timeline(session, begin, limit),
        crews=_crews(session, begin, limit),
        etr=_etr(session, begin, limit),
        told=_told(session, begin, limit),
        notifications=_notifications(session, begin, limit),
    )
