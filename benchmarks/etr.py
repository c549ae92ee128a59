"""Restoration times customers can trust: how good the ranges told to customers are.

In process and pure: no database, no server. A minute-by-minute simulation plays seeded
days on the SimBench grids: faults on devices and single services, found after the
detection delay of their kind (SCADA at once, calls and meters within minutes), crews
sent by the dispatch plan's greedy rule (`dispatch.optimizer.greedy_plan`, the service's
fallback), driving, finding and repairing. The service's own pieces make and tell the
estimates, as the planner and the fan-out do:

- `outage.crews.plan_inputs.dispatch_job` (jobs), `outage.crews.planning.estimate_for`
  and `worth_writing` (the estimate and whether it replaces the incident's), with the
  model `outage.crews.etr` builds: repair percentiles and a calibration on what became of
  earlier estimates (`dispatch.etr`);
- `outage.notifications.etr_policy` (which changes customers hear of, and when), with the
  service's first-message wait, change threshold and interval;
- planning when something changed, when the plan is older than its maximum age, or when
  an ETR is about to lapse (`outage.crews.planning.replan`'s rules);
- in a storm's global phase, the storm's time as the planner makes it (`last_of` of the
  estimates, moved by `worth_moving`) and tells it (its expected time, as each outage's).
  The global phase here ends (two hours) long before that time comes due, so the rule
  that re-estimates it before it passes is not exercised by these storms.

The truth is hidden from the estimator: repair times are log-normal with medians per
device kind other than the service's defaults, longer for some causes, by night and in
storms, and travel takes longer or shorter than the plan's. The estimator learns only
from a history: the same simulation with other seeds, played first (blue-sky days and
storms), its model rebuilt after each day from the repairs and estimate outcomes so far,
as a service learns. A storm is a day with many faults in its first hours, declared at
its start, played with phases (`STORM`) and with each outage's own time from the start
(`STORM_JOB_LEVEL`); a blue-sky day has a few faults, spread over it.

Figures per grid and kind of day, and at the top those of the blue-sky days of all grids:

- `first_mae_min`: median absolute error, in minutes, of the first ETR told (its
  expected time; in a storm's global phase, the storm's) against the restoration;
  `onsite_mae_min`: the same for the estimate once the crew is on site, told or not;
  `floor_mae_min`: the same for an estimator that knew each repair's true median when
  the crew arrived: the noise no estimator removes;
  `oracle_first_mae_min`: the first ETR's error for an estimator that knew the truth
  when the first ETR was told: each repair's distribution (its kind, time of day and
  storm, and its cause once the crew is there) and when the crew would really arrive.
  Its time is the median of that truth: the best a time as likely early as late can do;
- `p80_coverage`: the share of those estimates (first and on-site) restored by the
  latest time of their range (goal: between 0.75 and 0.85 with the default quantiles);
- `lapsed`: the share of customers whose told time passed with their power still off
  (goal: 0);
- `informed_15min`: the share of customers told an ETR, or that damage is being
  assessed, within 15 minutes of the fault (goal: at least 0.99);
- `incidents`: faults played.
"""

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.etr import (
    DEFAULT_QUANTILES,
    REESTIMATE_MARGIN,
    SERVICE,
    Calibration,
    Etr,
    EtrSource,
    Outcome,
    RepairHistory,
    RepairSample,
    Stage,
    daytime,
    last_of,
)
from dispatch.model import Crew, Skill
from dispatch.optimizer import greedy_plan
from dispatch.travel import GreatCircleTravel
from grid_topology.geojson import read_grid
from grid_topology.model import Coordinate, DeviceKind, GridModel
from grid_topology.simbench import SimbenchUnavailable, import_simbench
from grid_topology.topology import Network, Topology
from outage.crews.etr import MAX_OUTCOMES, EtrModel
from outage.crews.plan_inputs import Conditions, Work, dispatch_job
from outage.crews.planning import (
    REESTIMATE_COOLDOWN,
    estimate_for,
    held_time,
    worth_moving,
    worth_writing,
)
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.schemas import DeviceRef
from outage.notifications.etr_policy import ToldEtr, change_due, worth_telling
from outage.settings import get_settings
from outage.storms.enums import EtrScope, StormPhase

Progress = Callable[[str, int, int], None]

GRIDS = ("1-MVLV-urban-all-0-sw", "1-MVLV-semiurb-all-0-sw")
STEP = timedelta(minutes=1)
DAY = timedelta(hours=24)
INFORMED_WITHIN = timedelta(minutes=15)

TRUE_MEDIAN_MIN = {
    "fuse": 45,
    "recloser": 70,
    "breaker": 100,
    "switch": 80,
    "disconnector": 80,
    "transformer": 200,
    "line": 150,
    SERVICE: 50,
}
"""The hidden truth: median minutes on site (finding and repairing), per device kind."""
TRUE_SIGMA = 0.55
CAUSES = {
    "tree_contact": (0.30, 1.4),
    "equipment_failure": (0.30, 1.2),
    "animal": (0.15, 0.7),
    "weather": (0.15, 1.3),
    "unknown": (0.10, 1.0),
}
"""Cause: (share, factor on the repair time)."""
NIGHT_FACTOR = 1.3
STORM_FACTOR = 1.5
TRAVEL_SIGMA = 0.25
KIND_SHARES = {SERVICE: 0.35, "fuse": 0.25, "transformer": 0.15, "line": 0.15, "breaker": 0.10}
REMOTE_KINDS = frozenset({"breaker", "recloser"})
"""Tripped in the control room's sight: detected within a minute."""
DETECTION_MIN = (2, 10)
"""Others are found from calls and meters within these minutes."""


@dataclass(frozen=True)
class DayKind:
    name: str
    faults: tuple[int, int]
    within: timedelta
    """The faults come in this long from the day's start."""
    crews: int
    declared: bool = False
    """A storm declared at the day's start: its estimates are storm estimates."""
    assessing: timedelta | None = None
    """With phases: customers are told damage is being assessed for this long from the
    day's start, then the storm's one time for `global_for`, then each outage's own."""
    global_for: timedelta = timedelta(0)

    def phase(self, since_start: timedelta) -> StormPhase:
        if self.assessing is None:
            return StormPhase.JOB
        if since_start < self.assessing:
            return StormPhase.ASSESSING
        if since_start < self.assessing + self.global_for:
            return StormPhase.GLOBAL
        return StormPhase.JOB


STORM_HOURS = timedelta(hours=4)
BLUE_SKY = DayKind("blue_sky", (8, 14), DAY, 3)
STORM = DayKind(
    "storm",
    (50, 70),
    STORM_HOURS,
    8,
    declared=True,
    assessing=STORM_HOURS + timedelta(hours=1),
    global_for=timedelta(hours=2),
)
"""Assessed until an hour after the last fault, then one time for the storm for two hours."""
STORM_JOB_LEVEL = DayKind("storm_job_level", (50, 70), STORM_HOURS, 8, declared=True)
"""The same storms with each outage's own time from the start: what the phases spare."""
HISTORY_DAYS = ((BLUE_SKY, 40), (STORM, 6))
MEASURED_DAYS = ((BLUE_SKY, 40), (STORM, 3), (STORM_JOB_LEVEL, 3))
QUICK_HISTORY_DAYS = ((BLUE_SKY, 16), (STORM, 2))
QUICK_MEASURED_DAYS = ((BLUE_SKY, 4), (STORM, 1), (STORM_JOB_LEVEL, 1))
ALL_SKILLS = frozenset(Skill)


@dataclass(frozen=True)
class Fault:
    id: int
    kind: str
    asset_ref: str | None
    location: Coordinate
    customers: int
    cause: str
    occurs_at: datetime
    detected_at: datetime
    on_site_s: float
    """The truth: finding and repairing once there."""
    median_on_site_s: float
    """The median of the distribution `on_site_s` was drawn from."""
    travel_factor: float

    def true_median_s(self, elapsed_s: float | None) -> float:
        """The median of the repair's truth as known `elapsed_s` after the crew's arrival
        (the cause known, and the repair longer than that), or before it (None: the
        cause not known, a mixture over the causes)."""
        if elapsed_s is None:
            base = self.median_on_site_s / CAUSES[self.cause][1]
            return _mixture_median([(share, base * f) for share, f in CAUSES.values()])
        below = _NORMAL.cdf(math.log(max(elapsed_s, 1e-9) / self.median_on_site_s) / TRUE_SIGMA)
        return self.median_on_site_s * math.exp(TRUE_SIGMA * _NORMAL.inv_cdf((1 + below) / 2))


@dataclass
class Outage:
    """A fault as the service knows it, and what its customers were told."""

    fault: Fault
    status: IncidentStatus = IncidentStatus.PREDICTED
    crew_id: int | None = None
    on_site_since: datetime | None = None
    done_at: datetime | None = None
    etr: Etr | None = None
    records: dict[Stage, Etr] = field(default_factory=dict)
    """The first estimate written at each stage: what the service learns from."""
    on_arrival: Etr | None = None
    """The first estimate once the crew was on site, written or not."""
    told: ToldEtr | None = None
    first_told: ToldEtr | None = None
    first_told_at: datetime | None = None
    informed_at: datetime | None = None
    """Told an ETR, or that damage is being assessed."""
    last_due: datetime | None = None
    pending: tuple[ToldEtr, datetime] | None = None
    """A change waiting for its time (a newer one replaces it)."""
    lapsed: bool = False

    def work(self) -> Work:
        fault = self.fault
        device = fault.kind if fault.kind != SERVICE else None
        return Work(
            id=fault.id,
            status=self.status,
            kind=fault.kind,
            device=DeviceRef(asset_ref=fault.asset_ref, kind=DeviceKind(device))
            if device and fault.asset_ref
            else None,
            premise=fault.asset_ref if device is None else None,
            address=None,
            location=fault.location,
            customers_out=fault.customers,
            customers_affected=fault.customers,
            hazard=None,
            is_hazard=False,
            cause=fault.cause if self.on_site_since is not None else None,
            crew_id=self.crew_id,
            assigned_by_planner=True,
            version=1,
            etr=self.etr.expected if self.etr else None,
            etr_source=EtrSource.PREDICTED if self.etr else None,
            etr_latest=self.etr.latest if self.etr else None,
            etr_scope=EtrScope.OUTAGE,
            on_site_since=self.on_site_since,
            critical=(),
        )


@dataclass
class SimCrew:
    id: int
    depot: Coordinate
    position: Coordinate
    job: int | None = None
    leaves_at: datetime | None = None
    arrives_at: datetime | None = None

    def where(self, now: datetime, places: dict[int, Coordinate]) -> Coordinate:
        if self.job is None or self.arrives_at is None or self.leaves_at is None:
            return self.position
        there = places[self.job]
        whole = (self.arrives_at - self.leaves_at).total_seconds()
        share = min(1.0, (now - self.leaves_at).total_seconds() / whole) if whole > 0 else 1.0
        return (
            self.position[0] + (there[0] - self.position[0]) * share,
            self.position[1] + (there[1] - self.position[1]) * share,
        )


@dataclass(frozen=True)
class GridFaults:
    """Where faults can be: devices with customers below, by kind, and premises."""

    name: str
    by_kind: dict[str, list[tuple[str, Coordinate, int]]]
    premises: list[tuple[str, Coordinate]]
    middle: Coordinate
    """Where the crews' depot is: the middle of the premises."""

    @classmethod
    def of(cls, name: str, model: GridModel) -> "GridFaults":
        topology = Topology(Network.from_model(model))
        by_kind: dict[str, list[tuple[str, Coordinate, int]]] = {}
        for device in model.devices:
            kind = device.kind.value
            if kind not in KIND_SHARES or device.normal_open:
                continue
            customers = len(topology.accounts_below(device.asset_ref))
            if customers:
                point = device.path[len(device.path) // 2]
                by_kind.setdefault(kind, []).append((device.asset_ref, point, customers))
        premises = [(p.customer.account, p.location) for p in model.premises]
        xs = [p[1][0] for p in premises] or [0.0]
        ys = [p[1][1] for p in premises] or [0.0]
        return cls(name, by_kind, premises, (statistics.fmean(xs), statistics.fmean(ys)))


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


_NORMAL = statistics.NormalDist()


def _mixture_median(parts: Sequence[tuple[float, float]]) -> float:
    """The median of log-normal repairs (`TRUE_SIGMA`) mixed as (share, median)."""

    def below(seconds: float) -> float:
        return sum(
            share * _NORMAL.cdf(math.log(seconds / median) / TRUE_SIGMA) for share, median in parts
        )

    low, high = min(m for _, m in parts), max(m for _, m in parts)
    for _ in range(60):
        middle = math.sqrt(low * high)
        low, high = (middle, high) if below(middle) < 0.5 else (low, middle)
    return math.sqrt(low * high)


def _faults(
    grid: GridFaults, day: DayKind, start: datetime, rng: random.Random, first_id: int
) -> list[Fault]:
    kinds = [k for k in KIND_SHARES if k == SERVICE or grid.by_kind.get(k)]
    weights = [KIND_SHARES[k] for k in kinds]
    causes, cause_weights = list(CAUSES), [share for share, _ in CAUSES.values()]
    faults = []
    for n in range(rng.randint(*day.faults)):
        kind = rng.choices(kinds, weights)[0]
        if kind == SERVICE:
            ref, point = rng.choice(grid.premises)
            customers = 1
        else:
            ref, point, customers = rng.choice(grid.by_kind[kind])
        cause = rng.choices(causes, cause_weights)[0]
        occurs = start + day.within * rng.random()
        if kind in REMOTE_KINDS:
            detected = occurs + timedelta(seconds=rng.uniform(0, 60))
        else:
            detected = occurs + timedelta(minutes=rng.uniform(*DETECTION_MIN))
        median = 60 * TRUE_MEDIAN_MIN[kind] * CAUSES[cause][1]
        if not daytime(occurs, UTC):
            median *= NIGHT_FACTOR
        if day is STORM:
            median *= STORM_FACTOR
        faults.append(
            Fault(
                id=first_id + n,
                kind=kind,
                asset_ref=ref,
                location=point,
                customers=customers,
                cause=cause,
                occurs_at=occurs,
                detected_at=detected,
                on_site_s=_lognormal(rng, median, TRUE_SIGMA),
                median_on_site_s=median,
                travel_factor=_lognormal(rng, 1.0, TRAVEL_SIGMA),
            )
        )
    return faults


@dataclass
class Learnt:
    """What the service has learnt so far: repairs done and estimates' outcomes."""

    samples: list[RepairSample] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def model(self) -> EtrModel:
        return EtrModel(
            history=RepairHistory(self.samples, quantiles=DEFAULT_QUANTILES),
            calibration=Calibration(self.outcomes[-MAX_OUTCOMES:], quantiles=DEFAULT_QUANTILES),
        )

    def learn(self, outage: Outage, *, storm: bool) -> None:
        fault, done = outage.fault, outage.done_at
        assert done is not None and outage.on_site_since is not None
        self.samples.append(
            RepairSample(
                fault.kind,
                fault.cause,
                (done - outage.on_site_since).total_seconds(),
                daytime=daytime(outage.on_site_since, UTC),
                storm=storm,
            )
        )
        for stage, etr in outage.records.items():
            assert etr.raw is not None and etr.made_at is not None
            actual = (done - etr.made_at).total_seconds()
            self.outcomes.append(Outcome(stage, etr.storm, etr.raw, actual))


class Day:
    """One simulated day: faults found, crews sent, estimates made and told."""

    def __init__(
        self,
        faults: Sequence[Fault],
        kind: DayKind,
        model: EtrModel,
        start: datetime,
        depot: Coordinate,
    ):
        settings = get_settings()
        self.model = model
        self.travel = GreatCircleTravel(
            road_factor=settings.dispatch_road_factor, speed_kmh=settings.dispatch_speed_kmh
        )
        self.storm_incidents = settings.dispatch_storm_incidents
        self.plan_max_age = settings.dispatch_plan_max_age_minutes
        self.first_wait = settings.notify_first_etr_wait_minutes
        self.change = settings.notify_etr_change_minutes
        self.interval = settings.notify_etr_interval_minutes
        self.pending = sorted(faults, key=lambda f: f.detected_at)
        self.outages: dict[int, Outage] = {}
        self.places = {f.id: f.location for f in faults}
        self.crews = [SimCrew(i + 1, depot, depot) for i in range(kind.crews)]
        self.kind = kind
        self.storm_etr: tuple[datetime, datetime] | None = None
        self.start = start
        self.planned_at: datetime | None = None
        self.changed = True

    def run(self) -> list[Outage]:
        now = self.start
        while self.pending or any(o.done_at is None for o in self.outages.values()):
            self._step(now)
            now += STEP
        return list(self.outages.values())

    def _step(self, now: datetime) -> None:
        while self.pending and self.pending[0].detected_at <= now:
            fault = self.pending.pop(0)
            self.outages[fault.id] = Outage(fault)
            self.changed = True
        self._move_crews(now)
        if self._plan_due(now):
            self._plan(now)
        self._tell(now)

    def _active(self) -> list[Outage]:
        return [o for o in self.outages.values() if o.done_at is None]

    def _move_crews(self, now: datetime) -> None:
        for crew in self.crews:
            if crew.job is None:
                continue
            outage = self.outages[crew.job]
            if outage.on_site_since is None and crew.arrives_at and crew.arrives_at <= now:
                outage.on_site_since = crew.arrives_at
                outage.status = IncidentStatus.ON_SITE
                crew.position = outage.fault.location
                self.changed = True
            if outage.on_site_since is not None:
                done = outage.on_site_since + timedelta(seconds=outage.fault.on_site_s)
                if done <= now:
                    outage.done_at = done
                    outage.status = IncidentStatus.RESTORED
                    crew.job = crew.leaves_at = crew.arrives_at = None
                    self.changed = True

    def _plan_due(self, now: datetime) -> bool:
        if self.changed or self.planned_at is None:
            return True
        if now - self.planned_at >= self.plan_max_age:
            return True
        lapsing = any(
            o.etr is not None and o.etr.deadline <= now + REESTIMATE_MARGIN for o in self._active()
        )
        return lapsing and now - self.planned_at >= REESTIMATE_COOLDOWN

    def _plan(self, now: datetime) -> None:
        self.changed = False
        self.planned_at = now
        active = self._active()
        if not active:
            return
        storm = self.kind.declared or len(active) > self.storm_incidents
        at = Conditions(now=now, zone=UTC, storm=storm)
        works = {o.fault.id: o.work() for o in active}
        jobs = [dispatch_job(w, {}, self.model.history, at) for w in works.values()]
        crews = [
            Crew(
                id=c.id,
                skills=ALL_SKILLS,
                shift_start=now - DAY,
                shift_end=now + 2 * DAY,
                depot=c.depot,
                location=c.where(now, self.places),
            )
            for c in self.crews
        ]
        plan = greedy_plan(jobs, crews, self.travel, now=now)
        for crew in self.crews:
            if crew.job is None:
                self._send(crew, plan.assignments, now)
        job_level = self.kind.phase(now - self.start) is StormPhase.JOB
        estimates = []
        for outage in active:
            work = outage.work()
            etr = estimate_for(work, plan, self.model, at)
            estimates.append(etr)
            if outage.on_site_since is not None and outage.on_arrival is None:
                outage.on_arrival = etr
            if job_level and worth_writing(work, etr, now):
                outage.etr = etr
                stage = Stage.ON_SITE if outage.on_site_since else Stage.BEFORE_ARRIVAL
                outage.records.setdefault(stage, etr)
        overall = last_of(estimates)
        told = held_time(self.storm_etr)
        if self.kind.declared and overall and worth_moving(told, overall, now):
            self.storm_etr = overall

    def _send(self, crew: SimCrew, assignments: Sequence[Any], now: datetime) -> None:
        route = next((a for a in assignments if a.crew_id == crew.id), None)
        if route is None or not route.visits:
            return
        outage = self.outages[route.visits[0].job_id]
        if outage.crew_id is not None:
            return
        outage.crew_id = crew.id
        outage.status = IncidentStatus.EN_ROUTE
        planned = self.travel.seconds(crew.position, outage.fault.location)
        crew.job, crew.leaves_at = outage.fault.id, now
        crew.arrives_at = now + timedelta(seconds=planned * outage.fault.travel_factor)

    def _offered(self, outage: Outage, phase: StormPhase) -> ToldEtr | None:
        """The time customers of the outage are given in this phase, if any."""
        if phase is StormPhase.JOB and outage.etr is not None:
            return ToldEtr(outage.etr.expected, outage.etr.latest)
        if phase is StormPhase.GLOBAL and self.storm_etr is not None:
            return ToldEtr(self.storm_etr[0])  # as the planner writes it: the last one back
        return None

    def _tell(self, now: datetime) -> None:
        """The fan-out: the first word after the first message's wait (a time, or that
        damage is being assessed), changes by the service's policy."""
        phase = self.kind.phase(now - self.start)
        for outage in self.outages.values():
            if outage.done_at is not None and outage.done_at <= now:
                continue
            if outage.told is not None and outage.told.deadline < now:
                outage.lapsed = True
            offered = self._offered(outage, phase)
            waited = now >= outage.fault.detected_at + self.first_wait
            said = offered is not None or phase is StormPhase.ASSESSING
            if waited and said and outage.informed_at is None:
                outage.informed_at = now
            if offered is None or not waited:
                continue
            if outage.told is None:
                outage.told = outage.first_told = offered
                outage.first_told_at = outage.last_due = now
                continue
            if offered != outage.told and worth_telling(outage.told, offered, self.change):
                due = change_due(
                    now,
                    last_due=outage.last_due,
                    interval=self.interval,
                    told=outage.told,
                    new=offered,
                    change=self.change,
                )
                outage.pending = (offered, due)
            if outage.pending is not None and outage.pending[1] <= now:
                outage.told, outage.last_due = outage.pending[0], now
                outage.pending = None


@dataclass
class Tally:
    first_errors: list[float] = field(default_factory=list)
    onsite_errors: list[float] = field(default_factory=list)
    floor_errors: list[float] = field(default_factory=list)
    oracle_errors: list[float] = field(default_factory=list)
    covered: list[bool] = field(default_factory=list)
    customers: int = 0
    lapsed: int = 0
    informed: int = 0
    incidents: int = 0

    def add(self, outages: Sequence[Outage]) -> None:
        for outage in outages:
            fault, done = outage.fault, outage.done_at
            assert done is not None
            self.incidents += 1
            self.floor_errors.append(abs(fault.on_site_s - fault.median_on_site_s) / 60)
            self.customers += fault.customers
            self.lapsed += fault.customers * outage.lapsed
            informed = outage.informed_at
            self.informed += fault.customers * (
                informed is not None and informed - fault.occurs_at <= INFORMED_WITHIN
            )
            first = outage.first_told
            if first is not None:
                self.first_errors.append(abs((done - first.expected).total_seconds()) / 60)
                self.oracle_errors.append(abs((done - _oracle(outage)).total_seconds()) / 60)
                self.covered.append(done <= first.deadline)
            on_site = outage.on_arrival
            if on_site is not None:
                self.onsite_errors.append(abs((done - on_site.expected).total_seconds()) / 60)
                self.covered.append(done <= on_site.deadline)

    def figures(self) -> dict[str, Any]:
        def median(values: list[float]) -> float | None:
            return round(statistics.median(values), 1) if values else None

        return {
            "incidents": self.incidents,
            "first_mae_min": median(self.first_errors),
            "onsite_mae_min": median(self.onsite_errors),
            "floor_mae_min": median(self.floor_errors),
            "oracle_first_mae_min": median(self.oracle_errors),
            "p80_coverage": round(sum(self.covered) / len(self.covered), 3)
            if self.covered
            else None,
            "lapsed": round(self.lapsed / self.customers, 4) if self.customers else 0.0,
            "informed_15min": round(self.informed / self.customers, 4) if self.customers else 0.0,
        }


def _oracle(outage: Outage) -> datetime:
    """The first ETR of an estimator knowing the truth, told when the first was."""
    told_at, arrived = outage.first_told_at, outage.on_site_since
    assert told_at is not None and arrived is not None
    elapsed = (told_at - arrived).total_seconds() if arrived <= told_at else None
    return arrived + timedelta(seconds=outage.fault.true_median_s(elapsed))


def _play(
    grid: GridFaults,
    days: Sequence[tuple[DayKind, int]],
    seed: str,
    learnt: Learnt,
    progress: Callable[[int], None],
    tallies: dict[str, Tally] | None = None,
) -> None:
    """Days one after another, the model rebuilt from what was learnt before each."""
    start = datetime(2026, 3, 2, tzinfo=UTC)
    first_id = 1
    order = [kind for kind, count in days for _ in range(count)]
    random.Random(seed).shuffle(order)
    for n, day in enumerate(order):
        rng = random.Random(f"{seed}/{n}")
        faults = _faults(grid, day, start + n * DAY, rng, first_id)
        first_id += len(faults)
        outages = Day(faults, day, learnt.model(), start + n * DAY, grid.middle).run()
        for outage in sorted(outages, key=lambda o: o.done_at or start):
            learnt.learn(outage, storm=day.declared)
        if tallies is not None:
            tallies.setdefault(day.name, Tally()).add(outages)
        progress(n + 1)


def _grids(quick: bool) -> list[GridFaults]:
    codes = GRIDS[:1] if quick else GRIDS
    try:
        return [GridFaults.of(code, import_simbench(code)) for code in codes]
    except SimbenchUnavailable:
        sample = get_settings().sample_grid
        return [GridFaults.of(sample.name, read_grid(sample))]


def measure(
    grid: GridFaults,
    history: Sequence[tuple[DayKind, int]],
    measured: Sequence[tuple[DayKind, int]],
    progress: Callable[[int, int], None],
) -> dict[str, Tally]:
    """The measured days' figures by kind of day, once the history's have been learnt."""
    played = sum(c for _, c in history)
    total = played + sum(c for _, c in measured)
    learnt = Learnt()
    _play(grid, history, f"{grid.name}/history", learnt, lambda days: progress(days, total))
    tallies: dict[str, Tally] = {}
    _play(
        grid,
        measured,
        f"{grid.name}/measured",
        learnt,
        lambda days: progress(played + days, total),
        tallies,
    )
    return tallies


def run(admin_url: str, *, quick: bool, progress: Progress) -> dict[str, Any]:
    """`admin_url` is unused: this benchmark needs no database."""
    del admin_url
    history = QUICK_HISTORY_DAYS if quick else HISTORY_DAYS
    measured = QUICK_MEASURED_DAYS if quick else MEASURED_DAYS
    table = []
    blue_sky = Tally()
    for grid in _grids(quick):
        stage = f"etr: {grid.name}"

        def done(days: int, total: int, stage: str = stage) -> None:
            progress(stage, days, total)

        tallies = measure(grid, history, measured, done)
        for name, tally in tallies.items():
            table.append({"grid": grid.name, "day": name, **tally.figures()})
        if BLUE_SKY.name in tallies:
            blue_sky = _merged(blue_sky, tallies[BLUE_SKY.name])
    return {**blue_sky.figures(), "table": table}


def _merged(a: Tally, b: Tally) -> Tally:
    return replace(
        a,
        first_errors=a.first_errors + b.first_errors,
        onsite_errors=a.onsite_errors + b.onsite_errors,
        floor_errors=a.floor_errors + b.floor_errors,
        oracle_errors=a.oracle_errors + b.oracle_errors,
        covered=a.covered + b.covered,
        customers=a.customers + b.customers,
        lapsed=a.lapsed + b.lapsed,
        informed=a.informed + b.informed,
        incidents=a.incidents + b.incidents,
    )
