"""Crew dispatch: the optimiser's customer-minutes against the greedy rule's, same instances.

In process and pure: no database, no server. Each instance is generated from a seed on a
10 km square around the bundled sample grid's substation:

- jobs: the faulted device's kind decides the customers out (heavy-tailed: a single
  service has one, a fuse about a hundred, a feeder breaker about two thousand), the
  skills needed and the repair time; half the jobs cluster around a few storm cells, the
  rest are anywhere; 8% are public-safety hazards (wires down, a tree on a line), 6% have
  critical customers out; some are released later (made safe, switched first);
- crews: line, cable, troubleshooter, vegetation and substation crews from three depots,
  some already out in the field; most are on shift now, some start later; storm shifts
  are longer.

`plan` (the optimiser, `dispatch.optimizer`, with its default 5 s limit) and `greedy_plan`
(the most urgent job to the crew that can finish it soonest) plan the same instance, with
the same priority weights: the defaults of `dispatch.priority`, or for the "strict tiers"
configuration (the same instances as the main one) tier terms so large that no minute of
a hazard or a critical customer is ever traded for customer-minutes.

Figures per configuration, over its seeds:

- `cmi`, `greedy_cmi`: customer-minutes interrupted per instance (mean over seeds): the
  sum over jobs of customers out x minutes from the job's release to its repair done. A
  job a plan leaves out counts until the last shift ends plus its repair (the earliest a
  later shift could do it: lenient to the plan that left it out).
- `cmi_ratio_vs_greedy`: the optimiser's customer-minutes over the greedy rule's, summed
  over the seeds; `ratio_min`, `ratio_max`: the best and worst single instance;
  `cmi_ratio_both_served`: the same over only the jobs both plans served.
- `objective_ratio_vs_greedy`: the same for the weighted objective the optimiser
  minimises (hazards and critical customers weigh more).
- `hazard_done_min`, `greedy_hazard_done_min`: mean minutes until a hazard is made safe;
  `critical_done_min`, `greedy_critical_done_min`: the same for jobs with critical
  customers out (what the customer-minutes were traded for, if anything).
- `solve_s`: the optimiser's wall time, the slowest seed; `solve_s_median`; `greedy_s`.
- `unassigned`, `greedy_unassigned`: jobs left out, summed over seeds; `fallbacks`:
  instances where `plan` answered with the greedy plan.

The top-level figures are those of the main configuration (100 jobs x 30 crews); `table`
has every configuration.
"""

import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar

from dispatch.model import Crew, Job, Method, Plan, Skill
from dispatch.optimizer import DEFAULT_TIME_LIMIT_S, greedy_plan, plan
from dispatch.priority import DEFAULT_PRIORITIES, Priorities
from dispatch.travel import GreatCircleTravel
from grid_topology.geojson import read_grid
from grid_topology.model import Coordinate
from outage.settings import get_settings

Progress = Callable[[str, int, int], None]

NOW = datetime(2025, 7, 1, 6, 0, tzinfo=UTC)
SQUARE_KM = 10.0
HAZARD_SHARE = 0.08
CRITICAL_SHARE = 0.06
LATE_RELEASE_SHARE = 0.15

S = Skill
T = TypeVar("T")


STRICT_TIERS = Priorities(
    hazard_weight=1_000_000,
    critical_weights=MappingProxyType(
        {"hospital": 50_000, "water_pumping": 30_000, "life_support": 20_000}
    ),
    other_critical_weight=20_000,
)
"""Tier terms so large that the optimiser never trades a minute of a higher tier."""


@dataclass(frozen=True)
class Config:
    name: str
    jobs: int
    crews: int
    seeds: int
    storm: bool = False
    priorities: Priorities = DEFAULT_PRIORITIES


MAIN = Config("100x30", 100, 30, seeds=10)
CONFIGS = (
    MAIN,
    Config("storm 400x60", 400, 60, seeds=3, storm=True),
    Config("100x30 strict tiers", 100, 30, seeds=10, priorities=STRICT_TIERS),
)
QUICK_CONFIGS = (Config("100x30", 100, 30, seeds=1),)
QUICK_TIME_LIMIT_S = 2.0


@dataclass(frozen=True)
class JobKind:
    """A kind of fault: how often, how many customers out, which skills, how long to mend."""

    name: str
    share: float
    customers_median: float
    customers_sigma: float
    skills: tuple[tuple[frozenset[Skill], float], ...]
    repair_min: tuple[int, int]


JOB_KINDS = (
    JobKind("service", 0.30, 1, 0.0, ((frozenset({S.SERVICE_METER}), 1.0),), (30, 90)),
    JobKind(
        "transformer",
        0.25,
        40,
        0.8,
        ((frozenset({S.OVERHEAD_LINE}), 0.7), (frozenset({S.UNDERGROUND}), 0.3)),
        (60, 240),
    ),
    JobKind(
        "fuse",
        0.25,
        120,
        1.0,
        ((frozenset({S.OVERHEAD_LINE}), 0.7), (frozenset({S.UNDERGROUND}), 0.3)),
        (45, 150),
    ),
    JobKind(
        "line",
        0.15,
        600,
        0.8,
        ((frozenset({S.OVERHEAD_LINE}), 0.75), (frozenset({S.OVERHEAD_LINE, S.VEGETATION}), 0.25)),
        (90, 300),
    ),
    JobKind("breaker", 0.05, 2000, 0.5, ((frozenset({S.SUBSTATION}), 1.0),), (60, 180)),
)

CREW_KINDS: tuple[tuple[frozenset[Skill], float], ...] = (
    (frozenset({S.OVERHEAD_LINE, S.SERVICE_METER}), 0.35),
    (frozenset({S.UNDERGROUND, S.SERVICE_METER}), 0.20),
    (frozenset({S.SERVICE_METER}), 0.20),
    (frozenset({S.OVERHEAD_LINE, S.VEGETATION}), 0.15),
    (frozenset({S.SUBSTATION, S.OVERHEAD_LINE}), 0.10),
)

CRITICAL_KINDS = ("hospital", "water_pumping", "life_support")

_OVERHEAD_SHARE = sum(
    kind.share * sum(w for skills, w in kind.skills if S.OVERHEAD_LINE in skills)
    for kind in JOB_KINDS
)
"""Of the jobs, those on overhead lines: the hazards (wires down, a tree on a line) are."""
_NOT_SERVICE_SHARE = sum(kind.share for kind in JOB_KINDS if kind.name != "service")
"""Of the jobs, those with more than a single service out: the critical ones are."""


@dataclass(frozen=True)
class Instance:
    jobs: list[Job]
    crews: list[Crew]


class Square:
    """A square of `SQUARE_KM` around a centre, in (lon, lat)."""

    def __init__(self, centre: Coordinate) -> None:
        self.centre = centre
        self.deg_lat = 1 / 111.2
        self.deg_lon = 1 / (111.2 * math.cos(math.radians(centre[1])))

    def point(self, x_km: float, y_km: float) -> Coordinate:
        half = SQUARE_KM / 2
        x, y = min(half, max(-half, x_km)), min(half, max(-half, y_km))
        return (self.centre[0] + x * self.deg_lon, self.centre[1] + y * self.deg_lat)

    def anywhere(self, rng: random.Random) -> Coordinate:
        half = SQUARE_KM / 2
        return self.point(rng.uniform(-half, half), rng.uniform(-half, half))


def _pick(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def generate(config: Config, seed: int, square: Square) -> Instance:
    """One seeded instance of a configuration."""
    # Configurations of the same size share their instances.
    rng = random.Random(f"dispatch/{config.jobs}x{config.crews}/{config.storm}/{seed}")
    half = SQUARE_KM / 2
    cells = [(rng.uniform(-half, half), rng.uniform(-half, half)) for _ in range(4)]
    jobs = []
    for i in range(config.jobs):
        kind = _pick(rng, [(k, k.share) for k in JOB_KINDS])
        if rng.random() < 0.5:
            cx, cy = rng.choice(cells)
            location = square.point(rng.gauss(cx, 1.0), rng.gauss(cy, 1.0))
        else:
            location = square.anywhere(rng)
        customers = max(
            1, round(kind.customers_median * math.exp(rng.gauss(0, 1) * kind.customers_sigma))
        )
        skills = _pick(rng, kind.skills)
        hazard = S.OVERHEAD_LINE in skills and rng.random() < HAZARD_SHARE / _OVERHEAD_SHARE
        critical: tuple[str, ...] = ()
        if kind.name != "service" and rng.random() < CRITICAL_SHARE / _NOT_SERVICE_SHARE:
            critical = tuple(rng.choice(CRITICAL_KINDS) for _ in range(rng.randint(1, 2)))
        release = None
        if rng.random() < LATE_RELEASE_SHARE:
            release = NOW + timedelta(minutes=rng.uniform(10, 360 if config.storm else 180))
        jobs.append(
            Job(
                id=i + 1,
                location=location,
                repair_s=60 * rng.uniform(*kind.repair_min),
                skills=skills,
                customers=customers,
                critical=critical,
                hazard=hazard,
                release=release,
            )
        )
    depots = [square.anywhere(rng) for _ in range(3)]
    crews = []
    for i in range(config.crews):
        # The first few crews are one of each kind, so every job has someone able.
        skills = CREW_KINDS[i][0] if i < len(CREW_KINDS) else _pick(rng, CREW_KINDS)
        depot = rng.choice(depots)
        if rng.random() < 0.7:
            start = NOW - timedelta(hours=rng.uniform(0, 2))
        else:
            start = NOW + timedelta(hours=rng.uniform(2, 6 if config.storm else 4))
        hours = rng.uniform(12, 16) if config.storm else rng.uniform(8, 10)
        crews.append(
            Crew(
                id=i + 1,
                skills=skills,
                shift_start=start,
                shift_end=start + timedelta(hours=hours),
                depot=depot,
                location=square.anywhere(rng) if rng.random() < 0.4 else None,
            )
        )
    return Instance(jobs, crews)


def _minutes_to_done(result: Plan, instance: Instance) -> dict[int, float]:
    """Minutes from each job's release to its repair done; a job left out counts until
    the last shift ends, plus its repair."""
    latest_end = max(c.shift_end for c in instance.crews)
    done = {visit.job_id: visit.finish for _, visit in result.visits()}
    minutes = {}
    for job in instance.jobs:
        release = max(NOW, job.release or NOW)
        finish = done.get(job.id, latest_end + timedelta(seconds=job.repair_s))
        minutes[job.id] = (finish - release).total_seconds() / 60
    return minutes


def cmi(result: Plan, instance: Instance, only: set[int] | None = None) -> float:
    """Customer-minutes interrupted (of the jobs in `only` when given)."""
    minutes = _minutes_to_done(result, instance)
    return sum(
        job.customers * minutes[job.id] for job in instance.jobs if only is None or job.id in only
    )


def objective(result: Plan, instance: Instance, priorities: Priorities) -> float:
    """The weighted customer-minutes the optimiser minimises."""
    minutes = _minutes_to_done(result, instance)
    return sum(priorities.weight(job) * minutes[job.id] for job in instance.jobs)


def minutes_until_done(
    result: Plan, instance: Instance, which: Callable[[Job], bool]
) -> list[float]:
    """Minutes from now until each chosen job is done (left-out jobs left out)."""
    chosen = {j.id for j in instance.jobs if which(j)}
    return [
        (visit.finish - NOW).total_seconds() / 60
        for _, visit in result.visits()
        if visit.job_id in chosen
    ]


@dataclass
class Tally:
    cmi: list[float] = field(default_factory=list)
    greedy_cmi: list[float] = field(default_factory=list)
    common_cmi: list[float] = field(default_factory=list)
    common_greedy_cmi: list[float] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)
    greedy_objective: list[float] = field(default_factory=list)
    hazard: list[float] = field(default_factory=list)
    greedy_hazard: list[float] = field(default_factory=list)
    critical: list[float] = field(default_factory=list)
    greedy_critical: list[float] = field(default_factory=list)
    solve_s: list[float] = field(default_factory=list)
    greedy_s: list[float] = field(default_factory=list)
    unassigned: int = 0
    greedy_unassigned: int = 0
    fallbacks: int = 0

    def add(self, instance: Instance, optimised: Plan, greedy: Plan, weights: Priorities) -> None:
        self.cmi.append(cmi(optimised, instance))
        self.greedy_cmi.append(cmi(greedy, instance))
        both = {v.job_id for _, v in optimised.visits()} & {v.job_id for _, v in greedy.visits()}
        self.common_cmi.append(cmi(optimised, instance, both))
        self.common_greedy_cmi.append(cmi(greedy, instance, both))
        self.objective.append(objective(optimised, instance, weights))
        self.greedy_objective.append(objective(greedy, instance, weights))
        self.hazard += minutes_until_done(optimised, instance, lambda j: j.hazard)
        self.greedy_hazard += minutes_until_done(greedy, instance, lambda j: j.hazard)
        self.critical += minutes_until_done(optimised, instance, lambda j: bool(j.critical))
        self.greedy_critical += minutes_until_done(greedy, instance, lambda j: bool(j.critical))
        self.unassigned += len(optimised.unassigned)
        self.greedy_unassigned += len(greedy.unassigned)
        self.fallbacks += optimised.method is Method.GREEDY

    def figures(self, config: Config, time_limit_s: float) -> dict[str, Any]:
        ratios = [o / g for o, g in zip(self.cmi, self.greedy_cmi, strict=True)]

        def mean(values: list[float]) -> float | None:
            return round(statistics.fmean(values), 1) if values else None

        return {
            "config": config.name,
            "jobs": config.jobs,
            "crews": config.crews,
            "cmi": mean(self.cmi),
            "greedy_cmi": mean(self.greedy_cmi),
            "cmi_ratio_vs_greedy": round(sum(self.cmi) / sum(self.greedy_cmi), 4),
            "solve_s": round(max(self.solve_s), 3),
            "solve_s_median": round(statistics.median(self.solve_s), 3),
            "greedy_s": round(max(self.greedy_s), 4),
            "cmi_ratio_both_served": round(sum(self.common_cmi) / sum(self.common_greedy_cmi), 4),
            "ratio_min": round(min(ratios), 4),
            "ratio_max": round(max(ratios), 4),
            "objective_ratio_vs_greedy": round(sum(self.objective) / sum(self.greedy_objective), 4),
            "hazard_done_min": mean(self.hazard),
            "greedy_hazard_done_min": mean(self.greedy_hazard),
            "critical_done_min": mean(self.critical),
            "greedy_critical_done_min": mean(self.greedy_critical),
            "unassigned": self.unassigned,
            "greedy_unassigned": self.greedy_unassigned,
            "fallbacks": self.fallbacks,
            "seeds": config.seeds,
            "time_limit_s": time_limit_s,
        }


def run_config(
    config: Config,
    square: Square,
    *,
    time_limit_s: float,
    progress: Progress,
) -> dict[str, Any]:
    travel = GreatCircleTravel()
    weights = config.priorities
    tally = Tally()
    stage = f"dispatch: {config.name}"
    for seed in range(config.seeds):
        progress(stage, seed, config.seeds)
        instance = generate(config, seed, square)
        started = time.perf_counter()
        greedy = greedy_plan(instance.jobs, instance.crews, travel, now=NOW, priorities=weights)
        tally.greedy_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        optimised = plan(
            instance.jobs,
            instance.crews,
            travel,
            now=NOW,
            time_limit_s=time_limit_s,
            priorities=weights,
        )
        tally.solve_s.append(time.perf_counter() - started)
        tally.add(instance, optimised, greedy, weights)
    progress(stage, config.seeds, config.seeds)
    return tally.figures(config, time_limit_s)


def sample_square() -> Square:
    """The 10 km square around the bundled sample grid's (first) substation."""
    grid = read_grid(get_settings().sample_grid)
    return Square(grid.substations[0].location)


def run(
    admin_url: str,
    *,
    quick: bool,
    progress: Progress,
    configs: Sequence[Config] | None = None,
    time_limit_s: float | None = None,
) -> dict[str, Any]:
    """`admin_url` is unused: this benchmark needs no database."""
    del admin_url
    chosen = configs or (QUICK_CONFIGS if quick else CONFIGS)
    limit = time_limit_s or (QUICK_TIME_LIMIT_S if quick else DEFAULT_TIME_LIMIT_S)
    square = sample_square()
    table = [run_config(c, square, time_limit_s=limit, progress=progress) for c in chosen]
    return {**table[0], "table": table}
