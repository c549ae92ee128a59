"""The after-action replay: the storm's outages again, with other crews or another rule.

The record gives the faults and what their repairs took (`dispatch.replay` says which
parts are the fault's and which the crew's); the replay decides who goes where and when,
and the customer-minutes follow from the times the jobs are done:

- A job is an incident (an outage, or a hazard to make safe) a crew set off for and
  finished in the period: restored, or for a hazard or a call with nothing wrong, closed
  or cancelled. Its crew is the last one sent before it was finished (`en_route`,
  `on_site`, or `assigned` by a dispatcher; the planner's assignment is only a plan until
  the crew goes). One assigned and closed or cancelled before the crew set off was no
  crew's job, nor one its crew left for another before it was finished (`crews_work`).
- Outages restored without a crew (a breaker reclosed, switching, power back on its own),
  crews' jobs at no known place, and outages still on at the end keep their recorded
  times: the crews change nothing there.
- Customer-minutes are counted as the reliability report counts them (the interruption
  records of `outage.reliability.records`, overlaps merged, momentary and planned ones
  left out), within the period. A replayed outage's first restoration (its crew's job)
  moves to the replayed time: partial restorations before it stay up to then, a setback
  and the restoration after it stay, no earlier than then.
- The planner's rule sees each job as the live planner would have before the crew
  arrived: the repair history as it stood when the period began, for its device kind,
  in a storm or not, by day or night, with no cause yet; not what it took.
- `crews`: fewer than the record's keeps the busiest; more adds copies of the record's
  crews in turn (same skills, depot and shifts), with negative ids. At most `MAX_CREWS`,
  and no more than `MAX_WORK` jobs times crews when the planner decides.

With the recorded crews and `Policy.RECORDED` the replay gives back the recorded
customer-minutes; how far it is off says how well the record could be read.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from geoalchemy2.shape import to_shape
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

import dispatch.model as dispatch
from dispatch.etr import (
    SERVICE,
    RepairEstimate,
    RepairHistory,
    assessment_to_come,
    daytime,
)
from dispatch.replay import FieldCrew, FieldJob, Policy, recorded_lags, replay
from dispatch.travel import TravelTime
from dispatch.work import skills_for
from grid_topology.model import Coordinate
from outage import clock
from outage.crews.etr import repair_samples
from outage.crews.models import Crew, CrewPosition, CrewShift
from outage.crews.plan_inputs import HAZARD_KIND, incident_location
from outage.grid.models import Device, Premise
from outage.incidents.enums import AuditAction, IncidentKind
from outage.incidents.interruptions import IncidentHistory, Step, StepKind, interruptions_of
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident
from outage.reliability.after_action import (
    InvalidAfterAction,
    TrailStep,
    crew_trails,
    report_period,
)
from outage.reliability.indices import InterruptionRecord, merge_overlaps
from outage.reliability.records import load_histories
from outage.reliability.service import Moment

MINUTE = timedelta(minutes=1)
MAX_CREWS = 200
"""More crews than any storm's mutual aid brings: a replay with more is refused."""
MAX_WORK = 100_000
"""Jobs times crews a replay plays at most (a few seconds to half a minute of planning):
a bigger one is refused, so one request cannot hold a worker for long."""
_SET_OFF = (AuditAction.EN_ROUTE, AuditAction.ASSIGNED, AuditAction.ON_SITE)
_FINISH = frozenset({AuditAction.RESTORED, AuditAction.CLOSED, AuditAction.CANCELLED})
_TRAIL = (AuditAction.OPENED, *_SET_OFF, *_FINISH)


# Reading the record (pure)


@dataclass(frozen=True)
class RecordedJob:
    """A crew's job as the audit trail tells it."""

    crew_id: int
    known_at: datetime
    set_off: datetime
    arrived: datetime
    finished: datetime
    restored: bool
    """Finished by a restoration (not closed or cancelled)."""


def recorded_job(trail: Sequence[TrailStep]) -> RecordedJob | None:
    """The job of an incident's trail (the module's rule); None when no crew finished it."""
    ordered = sorted(trail, key=lambda e: e.at)
    finish = next((i for i, e in enumerate(ordered) if e.action in _FINISH), None)
    if finish is None:
        return None
    before = ordered[:finish]
    went = [e for e in before if _sent(e)]
    if not went:
        return None
    crew = went[-1].crew_id
    assert crew is not None
    own = [e for e in went if e.crew_id == crew]
    end = ordered[finish]
    if end.action is not AuditAction.RESTORED and all(
        e.action is AuditAction.ASSIGNED for e in own
    ):
        return None  # assigned, and over before the crew set off

    def last(action: AuditAction) -> datetime | None:
        return max((e.at for e in own if e.action is action), default=None)

    arrived = last(AuditAction.ON_SITE)
    set_off = last(AuditAction.EN_ROUTE) or last(AuditAction.ASSIGNED) or arrived
    assert set_off is not None
    finished = max(end.restored_at or end.at, set_off)
    arrived = min(max(arrived or set_off, set_off), finished)
    opened = next((e.at for e in ordered if e.action is AuditAction.OPENED), ordered[0].at)
    return RecordedJob(
        crew_id=crew,
        known_at=min(opened, set_off),
        set_off=set_off,
        arrived=arrived,
        finished=finished,
        restored=end.action is AuditAction.RESTORED,
    )


def _sent(step: TrailStep) -> bool:
    """The crew set off (on its way, on site) or a dispatcher sent it; the planner's
    assignment is only a plan until the crew goes."""
    if step.crew_id is None or step.action not in _SET_OFF:
        return False
    return step.action is not AuditAction.ASSIGNED or not step.by_planner


def crews_work(recorded: Mapping[int, RecordedJob]) -> dict[int, list[int]]:
    """Each crew's jobs in the order it set off for them, without those it left for
    another before they were finished: something else finished them (the repair of a
    fault nearby, switching), not the crew's work there."""
    ordered: dict[int, list[int]] = defaultdict(list)
    for job_id, job in sorted(recorded.items(), key=lambda item: (item[1].set_off, item[0])):
        ordered[job.crew_id].append(job_id)
    return {
        crew: [
            job_id
            for job_id, after in zip(ids, [*ids[1:], None], strict=True)
            if after is None or recorded[after].set_off >= recorded[job_id].finished
        ]
        for crew, ids in ordered.items()
    }


def replayed_history(history: IncidentHistory, restored_at: datetime | None) -> IncidentHistory:
    """The outage's first restoration (the crew's job) at `restored_at` instead (None:
    still on): partial restorations before it kept up to then, what came after (a
    setback, the restoration after it) kept, no earlier than then."""
    first = next((i for i, s in enumerate(history.steps) if s.kind is StepKind.RESTORED), None)
    if first is None:
        return history
    before = history.steps[:first]
    if restored_at is None:
        return replace(history, steps=before)
    after = tuple(replace(s, at=max(s.at, restored_at)) for s in history.steps[first + 1 :])
    kept = tuple(s for s in before if s.at <= restored_at)
    return replace(history, steps=(*kept, Step(StepKind.RESTORED, restored_at), *after))


def customer_minutes(
    records: Iterable[InterruptionRecord], start: datetime, end: datetime
) -> float:
    """Unplanned sustained customer-minutes within [start, end)."""
    total = timedelta()
    for record in merge_overlaps(records):
        if record.planned or record.momentary:
            continue
        begin, finish = max(record.start, start), min(record.end, end)
        if finish > begin:
            total += finish - begin
    return total / MINUTE


def resized(crews: Sequence[FieldCrew], count: int, busy: Mapping[int, int]) -> list[FieldCrew]:
    """`count` crews: the busiest of `crews` (by jobs done), or all and copies of them in
    turn, with negative ids and no jobs of their own."""
    if count <= len(crews) or not crews:
        kept = sorted(crews, key=lambda c: (-busy.get(c.crew.id, 0), c.crew.id))[:count]
        return sorted(kept, key=lambda c: c.crew.id)
    ordered = sorted(crews, key=lambda c: c.crew.id)
    added = [
        replace(
            ordered[i % len(ordered)],
            crew=replace(ordered[i % len(ordered)].crew, id=-(i + 1)),
            jobs=(),
        )
        for i in range(count - len(crews))
    ]
    return ordered + added


# The answer


@dataclass(frozen=True)
class ReplayedJob:
    incident_id: int
    customers: int
    recorded_crew_id: int
    recorded_at: datetime
    """When the recorded crew finished it."""
    crew_id: int | None
    """The replay's crew; None when no crew could take it."""
    replayed_at: datetime | None


@dataclass(frozen=True)
class Replay:
    start: datetime
    end: datetime
    as_of: datetime
    storm_id: int | None
    policy: Policy
    recorded_crews: int
    crews: int
    recorded_customer_minutes: float
    customer_minutes: float
    jobs: tuple[ReplayedJob, ...]
    restored_without_crew: int
    """Outages the crews' work did not end (their times are the recorded ones)."""
    unplaced_jobs: int
    """Crews' jobs at no known place: not replayed, their times the recorded ones."""

    @property
    def change(self) -> float | None:
        """Replayed over recorded customer-minutes, less one."""
        if not self.recorded_customer_minutes:
            return None
        return self.customer_minutes / self.recorded_customer_minutes - 1


# The service


@dataclass(frozen=True)
class _Incident:
    id: int
    kind: str
    hazard: str | None
    is_hazard: bool
    customers: int
    location: Coordinate | None


def _worked(start: datetime, limit: datetime) -> Select[tuple[int]]:
    """Incidents a crew may have worked on in the period: begun before its end, not over
    before its start."""
    return select(Incident.id).where(
        Incident.started_at < limit,
        or_(Incident.restored_at.is_(None), Incident.restored_at >= start),
        or_(Incident.status != IncidentStatus.CANCELLED, Incident.updated_at >= start),
    )


def _incidents(session: Session, worked: Select[tuple[int]]) -> dict[int, _Incident]:
    lon, lat = incident_location()
    rows = session.execute(
        select(
            Incident.id,
            Incident.kind,
            Incident.hazard,
            Incident.customers_affected,
            Device.kind.label("device_kind"),
            Premise.ref.label("premise"),
            lon.label("lon"),
            lat.label("lat"),
        )
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(Premise, Premise.id == Incident.premise_id)
        .where(Incident.id.in_(worked))
    )
    return {
        row.id: _Incident(
            id=row.id,
            kind=str(row.device_kind or (SERVICE if row.premise else HAZARD_KIND)),
            hazard=row.hazard.value if row.hazard else None,
            is_hazard=row.hazard is not None or row.kind is IncidentKind.HAZARD,
            customers=row.customers_affected,
            location=(row.lon, row.lat) if row.lon is not None else None,
        )
        for row in rows
    }


def _field_job(
    incident: _Incident,
    job: RecordedJob,
    origin: Coordinate | None,
    lag_s: float,
    repair: RepairEstimate,
) -> FieldJob:
    assert incident.location is not None
    kind = None if incident.kind == HAZARD_KIND else incident.kind
    return FieldJob(
        job=dispatch.Job(
            id=incident.id,
            location=incident.location,
            repair_s=assessment_to_come(incident.kind, repair) + repair.expected_s,
            skills=skills_for(kind, incident.hazard),
            customers=incident.customers,
            hazard=incident.is_hazard,
        ),
        known_at=job.known_at,
        work_s=(job.finished - job.arrived).total_seconds(),
        travel_s=(job.arrived - job.set_off).total_seconds(),
        origin=origin,
        lag_s=lag_s,
    )


def _crews(
    session: Session, start: datetime, limit: datetime, worked: Iterable[int]
) -> list[tuple[Crew, list[tuple[datetime, datetime]], Coordinate]]:
    """The crews on shift in the period or with a job in it: their shifts (within their
    arrival and release) and where each was at `start`."""
    shifts: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for crew_id, starts_at, ends_at in session.execute(
        select(CrewShift.crew_id, CrewShift.starts_at, CrewShift.ends_at).where(
            CrewShift.starts_at < limit, CrewShift.ends_at > start
        )
    ):
        shifts[crew_id].append((starts_at, ends_at))
    ids = set(shifts) | set(worked)
    positions = dict(
        session.execute(
            select(CrewPosition.crew_id, CrewPosition.geom)
            .where(CrewPosition.crew_id.in_(ids), CrewPosition.recorded_at <= start)
            .order_by(CrewPosition.crew_id, CrewPosition.recorded_at.desc())
            .distinct(CrewPosition.crew_id)
        )
        .tuples()
        .all()
    )
    found = []
    for crew in session.scalars(select(Crew).where(Crew.id.in_(ids)).order_by(Crew.id)):
        windows = [
            (max(a, crew.arrives_at or a), min(b, crew.released_at or b))
            for a, b in sorted(shifts[crew.id])
        ]
        position = positions.get(crew.id)
        point = to_shape(position if position is not None else crew.depot)
        found.append((crew, [(a, b) for a, b in windows if b > a], (point.x, point.y)))
    return found


def after_action_replay(
    session: Session,
    *,
    travel: TravelTime,
    start: Moment | None = None,
    end: Moment | None = None,
    storm: int | None = None,
    crews: int | None = None,
    policy: Policy = Policy.RECORDED,
    zone: tzinfo,
    as_of: datetime | None = None,
) -> Replay:
    """The period's (or storm's) outages replayed with `crews` crews (the recorded ones when
    None) working as `policy` says, beside the recorded customer-minutes."""
    if crews is not None and not 0 <= crews <= MAX_CREWS:
        raise InvalidAfterAction(f"a replay takes 0 to {MAX_CREWS} crews, not {crews}")
    now = as_of or clock.now()
    begin, finish, summary = report_period(session, start, end, storm, zone, now)
    limit = min(finish, now)
    worked = _worked(begin, limit)
    incidents = _incidents(session, worked)
    done_in_period = {
        incident_id: job
        for incident_id, trail in crew_trails(session, worked, _TRAIL).items()
        if (job := recorded_job(trail)) is not None and begin <= job.finished < limit
    }
    recorded = {i: job for i, job in done_in_period.items() if incidents[i].location is not None}
    unplaced = set(done_in_period) - set(recorded)
    t0 = min([begin, *(job.set_off for job in recorded.values())])
    found = _crews(session, begin, limit, {job.crew_id for job in recorded.values()})
    sequences = crews_work(recorded)
    recorded = {i: recorded[i] for ids in sequences.values() for i in ids}
    lags = recorded_lags(
        {
            crew: [
                (i, recorded[i].known_at, recorded[i].set_off, recorded[i].finished) for i in jobs
            ]
            for crew, jobs in sequences.items()
        },
        t0,
    )
    history = RepairHistory(repair_samples(session, now=begin, zone=zone))
    starts = {crew.id: position for crew, _, position in found}
    jobs = []
    for crew_id, ids in sequences.items():
        origin = starts.get(crew_id)
        for incident_id in ids:
            incident, job = incidents[incident_id], recorded[incident_id]
            # As the planner saw it before the crew got there: no cause known yet.
            repair = history.estimate(
                incident.kind, storm=summary is not None, daytime=daytime(job.known_at, zone)
            )
            jobs.append(_field_job(incident, job, origin, lags[incident_id], repair))
            origin = incident.location
    field_crews = [
        FieldCrew(
            crew=dispatch.Crew(
                id=crew.id,
                skills=frozenset(dispatch.Skill(s) for s in crew.skills),
                shift_start=t0,
                shift_end=limit,
                depot=position,
                location=position,
            ),
            shifts=tuple(windows),
            jobs=tuple(sequences.get(crew.id, ())),
        )
        for crew, windows, position in found
    ]
    playing = resized(
        field_crews,
        len(field_crews) if crews is None else crews,
        {crew: len(ids) for crew, ids in sequences.items()},
    )
    planning = policy is Policy.PLANNER or len(playing) != len(field_crews)
    if planning and len(jobs) * len(playing) > MAX_WORK:
        raise InvalidAfterAction(
            f"{len(jobs)} jobs with {len(playing)} crews is too much to replay at once: "
            "ask for a shorter period or fewer crews"
        )
    replayed = replay(jobs, playing, travel, start=t0, policy=policy)
    finished = replayed.finished()
    crew_of = {done.job_id: done.crew_id for done in replayed.done}
    by_crew = {incident_id for incident_id, job in recorded.items() if job.restored}
    recorded_records: list[InterruptionRecord] = []
    replayed_records: list[InterruptionRecord] = []
    kept = 0
    for outage in load_histories(session, start=begin, end=limit, as_of=limit):
        recorded_records += interruptions_of(outage, as_of=limit)
        outage_id = _incident_id(outage)
        if outage_id in by_crew:
            outage = replayed_history(outage, finished.get(outage_id))
        elif outage_id is not None and outage_id not in unplaced:
            kept += 1
        replayed_records += interruptions_of(outage, as_of=limit)
    return Replay(
        start=begin,
        end=finish,
        as_of=now,
        storm_id=summary.id if summary else None,
        policy=policy,
        recorded_crews=len(field_crews),
        crews=len(playing),
        recorded_customer_minutes=round(customer_minutes(recorded_records, begin, limit), 1),
        customer_minutes=round(customer_minutes(replayed_records, begin, limit), 1),
        jobs=tuple(
            ReplayedJob(
                incident_id=incident_id,
                customers=incidents[incident_id].customers,
                recorded_crew_id=job.crew_id,
                recorded_at=job.finished,
                crew_id=crew_of.get(incident_id),
                replayed_at=finished.get(incident_id),
            )
            for incident_id, job in sorted(recorded.items())
        ),
        restored_without_crew=kept,
        unplaced_jobs=len(unplaced),
    )


def _incident_id(history: IncidentHistory) -> int | None:
    kind, _, number = history.event.partition("/")
    return int(number) if kind == "incident" else None
