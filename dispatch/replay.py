"""Replaying the field work of a storm: the same faults with other crews, or another rule.

Pure: recorded jobs and crews in, the time each job would have been done out. The
after-action replay (`outage.reliability.replay`) reads the record and turns these times
into customer-minutes.

What is taken from the record, as properties of the fault and of the place, not of the
crew that happened to go:

- when the job was known (the incident opened) and how long its repair took on site;
- how long the drive to it took, from where the recorded crew set off; another start
  adds (or saves) what the travel model says the difference is;
- the dispatch lag: how long the recorded crew set off after the job was known and it
  was free (a dispatcher's decision, a break, a road closed).

What the replay decides, by its `Policy`:

- `RECORDED`: each crew does the jobs it did, in the order it did them, setting off after
  the recorded lag; a crew with none left (every crew added to the record, and the
  others once their own are done) takes work by the planner's rule. With the recorded
  crews nothing changes, so the replay gives back the recorded times: the check that the
  record is read right. A crew going by the planner may take a job of another crew's
  list that no crew is heading for yet; that crew then skips it. A job a crew is heading
  for (waiting out its lag) stays its own.
- `PLANNER`: every job goes by the planner's rule (`dispatch.optimizer.greedy_plan`, the
  service's deterministic rule: the optimiser's answer depends on the machine's speed):
  whenever a crew is free, it takes the first job of its route in a plan of the jobs
  known and not yet taken, with the other crews busy until the planner expects them
  free (by the jobs' estimated repairs, as a live planner would). A crew starts
  planned work only within a shift.

A job no crew can do (no crew with its skills, or none on shift again) is not done.
"""

import heapq
import itertools
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np

from dispatch.model import Crew, Job
from dispatch.optimizer import greedy_plan
from dispatch.priority import DEFAULT_PRIORITIES, Priorities
from dispatch.travel import TravelTime
from grid_topology.model import Coordinate


class Policy(StrEnum):
    RECORDED = "recorded"
    PLANNER = "planner"


Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class FieldJob:
    """A job as it was done: the planner's view of it (`job`: estimated repair, skills,
    customers) and what the record says of it."""

    job: Job
    known_at: datetime
    work_s: float
    """Time on site until it was done."""
    travel_s: float | None = None
    """The recorded drive; None when the record has none (the crew was there already)."""
    origin: Coordinate | None = None
    """Where the recorded drive set off from."""
    lag_s: float = 0.0


@dataclass(frozen=True)
class FieldCrew:
    crew: Crew
    """Skills, depot and where it is at the start (`location`)."""
    shifts: tuple[Span, ...]
    """When it may start planned work."""
    jobs: tuple[int, ...] = ()
    """The jobs it did, in the order it set off for them."""


@dataclass(frozen=True)
class Done:
    job_id: int
    crew_id: int
    set_off: datetime
    arrived: datetime
    finished: datetime


@dataclass(frozen=True)
class Replayed:
    done: tuple[Done, ...]
    """In the order the jobs were finished."""
    undone: tuple[int, ...]
    """Jobs no crew could take."""

    def finished(self) -> dict[int, datetime]:
        return {d.job_id: d.finished for d in self.done}


@dataclass
class _CrewState:
    field: FieldCrew
    position: Coordinate
    free_at: datetime
    recorded: deque[int]
    heading_for: int | None = None
    """A job it is to set off for: no other crew takes it."""
    waiting: bool = False
    """Free, with nothing it could take: woken when a job becomes known or a shift starts."""
    expected: tuple[datetime, Coordinate] | None = None
    """When and where the planner expects it free, busy or heading for a job: by the
    job's estimated repair, as a live planner would, not by what it took."""


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    crew_id: int = field(compare=False, default=0)
    job_id: int = field(compare=False, default=0)


class _KnownPlaces:
    """Travel between the places a replay knows (its jobs' and the crews' starts),
    worked out once: every plan of the replay asks again for much the same matrix."""

    def __init__(self, travel: TravelTime, places: Sequence[Coordinate]) -> None:
        self.travel = travel
        self.places = list(dict.fromkeys(places))
        self.index = {place: i for i, place in enumerate(self.places)}
        self._table: Any = None
        """Made when a plan first asks: a replay of the recorded decisions never does."""

    def seconds(self, origin: Coordinate, destination: Coordinate) -> float:
        return self.travel.seconds(origin, destination)

    def matrix(self, points: Sequence[Coordinate]) -> list[list[int]]:
        if not all(point in self.index for point in points):
            return self.travel.matrix(points)
        if self._table is None:
            self._table = np.array(self.travel.matrix(self.places), dtype=np.int64)
        rows = [self.index[point] for point in points]
        return self._table[np.ix_(rows, rows)].tolist()  # type: ignore[no-any-return]


class _Replay:
    def __init__(
        self,
        jobs: Sequence[FieldJob],
        crews: Sequence[FieldCrew],
        travel: TravelTime,
        policy: Policy,
        start: datetime,
        priorities: Priorities,
    ) -> None:
        self.jobs = {j.job.id: j for j in jobs}
        self.travel = _KnownPlaces(
            travel, [j.job.location for j in jobs] + [c.crew.position for c in crews]
        )
        self.priorities = priorities
        self.crews = {
            c.crew.id: _CrewState(
                c,
                c.crew.position,
                start,
                deque(j for j in c.jobs if j in self.jobs)
                if policy is Policy.RECORDED
                else deque(),
            )
            for c in crews
        }
        self.taken: set[int] = set()
        self.wakes: set[datetime] = set()
        self.done: list[Done] = []
        self.events: list[_Event] = []
        self.seq = itertools.count()
        self.now = start

    def push(self, at: datetime, kind: str, crew_id: int = 0, job_id: int = 0) -> None:
        heapq.heappush(self.events, _Event(at, next(self.seq), kind, crew_id, job_id))

    def run(self) -> Replayed:
        for job in self.jobs.values():
            self.wake_at(job.known_at)
        for crew in self.crews.values():
            crew.waiting = True  # all decide together at the start
        self.wake_at(self.now)
        while self.events:
            event = heapq.heappop(self.events)
            self.now = max(self.now, event.at)
            if event.kind == "set_off":
                self.set_off(self.crews[event.crew_id], event.job_id)
                continue
            if event.kind == "free":
                crew = self.crews[event.crew_id]
                crew.expected = None
                self.decide([crew])
            self.wake()  # work became known, or a crew free: the waiting look again
        undone = tuple(sorted(set(self.jobs) - self.taken))
        return Replayed(tuple(sorted(self.done, key=lambda d: (d.finished, d.job_id))), undone)

    def wake_at(self, at: datetime) -> None:
        """Waiting crews decide again then (a job becomes known, a shift starts)."""
        if at not in self.wakes:
            self.wakes.add(at)
            self.push(at, "wake")

    def wake(self) -> None:
        waiting = [c for c in self.crews.values() if c.waiting]
        if waiting:
            self.decide(waiting)

    def decide(self, crews: Sequence[_CrewState]) -> None:
        """Free crews take their next recorded job, or the first of their routes in one
        plan; a crew with none waits (for work, another crew free, or its next shift)."""
        planned = []
        for crew in sorted(crews, key=lambda c: c.field.crew.id):
            crew.waiting = False
            while crew.recorded and self.claimed(crew.recorded[0], crew):
                crew.recorded.popleft()
            if crew.recorded:
                self.head_for(crew, crew.recorded[0])
            else:
                planned.append(crew)
        heads = self.plan_heads(planned) if planned else {}
        for crew in planned:
            job_id = heads.get(crew.field.crew.id)
            if job_id is not None:
                self.head_for(crew, job_id)
                continue
            crew.waiting = True
            later = self.next_shift_start(crew.field)
            if later is not None:
                self.wake_at(later)

    def head_for(self, crew: _CrewState, job_id: int) -> None:
        job = self.jobs[job_id]
        at = max(self.now, job.known_at, crew.free_at) + timedelta(seconds=job.lag_s)
        crew.heading_for = job_id
        crew.expected = self.expected_after(at, crew.position, job)
        self.push(at, "set_off", crew.field.crew.id, job_id)

    def expected_after(
        self, set_off: datetime, origin: Coordinate, job: FieldJob
    ) -> tuple[datetime, Coordinate]:
        drive = self.travel.seconds(origin, job.job.location)
        return set_off + timedelta(seconds=drive + job.job.repair_s), job.job.location

    def set_off(self, crew: _CrewState, job_id: int) -> None:
        job = self.jobs[job_id]
        crew.heading_for = None
        if crew.recorded and crew.recorded[0] == job_id:
            crew.recorded.popleft()
        self.taken.add(job_id)
        drive = self.drive_s(crew.position, job)
        arrived = self.now + timedelta(seconds=drive)
        finished = arrived + timedelta(seconds=job.work_s)
        crew.position, crew.free_at = job.job.location, finished
        crew.expected = (
            max(arrived + timedelta(seconds=job.job.repair_s), self.now),
            crew.position,
        )
        self.done.append(Done(job_id, crew.field.crew.id, self.now, arrived, finished))
        self.push(finished, "free", crew.field.crew.id, job_id)

    def drive_s(self, origin: Coordinate, job: FieldJob) -> float:
        modelled = self.travel.seconds(origin, job.job.location)
        if job.travel_s is None:
            return modelled
        if job.origin is None:
            return job.travel_s
        return max(0.0, job.travel_s + modelled - self.travel.seconds(job.origin, job.job.location))

    def plan_heads(self, deciding: Sequence[_CrewState]) -> dict[int, int]:
        """The first job of each deciding crew's route (those on shift), in one plan of
        the jobs known and not taken, the other crews busy as the planner expects."""
        shifts = {c.field.crew.id: self.shift_now(c.field) for c in deciding}
        if not any(shifts.values()):
            return {}
        unavailable = self.taken | {c.heading_for for c in self.crews.values()}
        open_jobs = [
            j.job
            for j in self.jobs.values()
            if j.known_at <= self.now and j.job.id not in unavailable
        ]
        if not open_jobs:
            return {}
        crews = [self.planning_crew(c, shifts.get(c.field.crew.id)) for c in self.crews.values()]
        plan = greedy_plan(
            open_jobs,
            [c for c in crews if c is not None],
            self.travel,
            now=self.now,
            priorities=self.priorities,
        )
        return {
            crew_id: route[0].job_id
            for crew_id in shifts
            if shifts[crew_id] is not None and (route := plan.route(crew_id))
        }

    def claimed(self, job_id: int, crew: _CrewState) -> bool:
        """Done, under way, or another crew is to set off for it."""
        return job_id in self.taken or any(
            c is not crew and c.heading_for == job_id for c in self.crews.values()
        )

    def planning_crew(self, crew: _CrewState, shift: Span | None) -> Crew | None:
        """The crew as the plan sees it: where it is expected, from when it is expected
        free."""
        free_at, position = crew.expected or (self.now, crew.position)
        window = shift or self.shift_now(crew.field, at=max(self.now, free_at))
        if window is None:
            return None
        return replace(
            crew.field.crew,
            location=position,
            shift_start=window[0],
            shift_end=window[1],
            available_from=free_at if free_at > self.now else None,
        )

    def shift_now(self, crew: FieldCrew, at: datetime | None = None) -> Span | None:
        moment = at or self.now
        return next((s for s in crew.shifts if s[0] <= moment < s[1]), None)

    def next_shift_start(self, crew: FieldCrew) -> datetime | None:
        return min((s[0] for s in crew.shifts if s[0] > self.now), default=None)


def replay(
    jobs: Sequence[FieldJob],
    crews: Sequence[FieldCrew],
    travel: TravelTime,
    *,
    start: datetime,
    policy: Policy = Policy.RECORDED,
    priorities: Priorities = DEFAULT_PRIORITIES,
) -> Replayed:
    """When each job would have been done, the crews free from `start` (no later than the
    first recorded departure) and working as `policy` says."""
    return _Replay(jobs, crews, travel, policy, start, priorities).run()


def recorded_lags(
    sequences: Mapping[int, Sequence[tuple[int, datetime, datetime, datetime]]],
    start: datetime,
) -> dict[int, float]:
    """Each job's dispatch lag, from every crew's recorded (job, known, set off, finished)
    in order: set off less the later of when it was known and when the crew was free."""
    lags: dict[int, float] = {}
    for done in sequences.values():
        free = start
        for job_id, known, set_off, finished in done:
            lags[job_id] = max(0.0, (set_off - max(known, free)).total_seconds())
            free = max(free, finished)
    return lags
