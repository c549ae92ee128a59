"""Estimated time of restoration (ETR) of an incident: a range, not a point.

An ETR is three times: the expected one (the median, the headline customers see) and the
range the restoration likely falls in, from its earliest to its latest (by default the
20th and 80th percentiles, `Quantiles`). It is backlog + travel + assessment + repair:

- Repair (crew on site to power back) comes from the durations of closed incidents of
  the same device kind (at least `min_samples`), moved by the effects of its conditions:
  the cause (once known, with at least `min_samples` repairs of it), a storm, by day or
  by night. The effects are multiplicative and learnt on the repairs of all kinds
  together (`_Fit`: medians of log-durations, backfitted), so a night slows a kind seen
  mostly by day and a small group's noise does not make its estimate. With no history,
  a default per device kind. Once the crew has been on site a while, the estimate is of
  the time left, from the repairs that took longer. Damage someone assessed sets the
  expected repair to the work they said it needs (`assessed`).
- Assessment is finding the fault once in the area (patrolling a line), per device kind:
  added to a default repair only, since a repair of the history is timed from the crew's
  arrival and includes it (`assessment_to_come`).
- Travel is the crew's drive there (`dispatch.travel`, or the plan's visit).
- Backlog is the wait for the crew: the jobs ahead of this one on its route in the plan
  (`crew_backlog_s`), and its shift's start.
- The sum of the parts' percentiles is not the percentile of the sum, and the plan's
  travel and backlog are guesses too, so the range is calibrated (`Calibration`) on what
  happened to the estimates told before: split-conformal quantile correction, by stage
  (before the crew's arrival, on site) and storm, on the estimates' own records; the
  headline's factor only when it is beyond the noise of those records (`_beyond_noise`).
- An ETR a crew or dispatcher set wins over any estimate until it is about to pass with
  the power still off (`needs_reestimate`); then the estimate takes over, so customers
  hear before it passes. It has no range: it is their word.
- `needs_reestimate` says when an ETR is about to lapse, so it is re-estimated (and the
  customers told) before it does: the latest time of a range is the one that must not pass.

Pure: plain values in, plain values out.
"""

import math
import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from statistics import NormalDist
from types import MappingProxyType
from typing import TypeVar

import numpy as np

from dispatch.model import Plan


class EtrSource(StrEnum):
    """Who gave the estimated time of restoration: a crew's word beats an estimate (an
    incident's `etr_source` too)."""

    PREDICTED = "predicted"
    CREW = "crew"
    DISPATCHER = "dispatcher"


class Stage(StrEnum):
    """How far the work is: what an estimate still has to guess."""

    BEFORE_ARRIVAL = "before_arrival"
    """Backlog, travel, assessment and the whole repair."""
    ON_SITE = "on_site"
    """The repair time left."""


SERVICE = "service"
"""The device kind of a single-service outage (a service drop or meter, no device)."""

DEFAULT_REPAIR_MIN: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "fuse": (60, 120),
        "recloser": (90, 180),
        "breaker": (120, 240),
        "switch": (90, 180),
        "disconnector": (90, 180),
        "transformer": (240, 480),
        "line": (180, 360),
        SERVICE: (60, 120),
    }
)
"""(median, 90th percentile) minutes of repair per device kind, before there is any
history; other percentiles from a log-normal through both."""

FALLBACK_REPAIR_MIN = (120, 240)
"""For a device kind with neither history nor a default."""

DEFAULT_ASSESSMENT_MIN: Mapping[str, int] = MappingProxyType(
    {
        "line": 30,
        "breaker": 20,
        "recloser": 20,
        "fuse": 15,
        "switch": 15,
        "disconnector": 15,
        "transformer": 10,
        SERVICE: 5,
    }
)
FALLBACK_ASSESSMENT_MIN = 15

MIN_SAMPLES = 10
MIN_OUTCOMES = 30
"""Estimates with a known outcome a calibration group needs before it corrects anything."""
REESTIMATE_MARGIN = timedelta(minutes=15)
MIN_REMAINING_SHARE = 0.25
"""With no history to go by, a repair overrunning its default still has this share of
the default to go."""
_DEFAULT_SPREAD_Z = NormalDist().inv_cdf(0.9)


def percentile(values: Sequence[float], share: float) -> float:
    """Linear interpolation between the closest ranks; `share` in [0, 1]."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    return _interpolated(ordered.__getitem__, len(ordered), share)


def _interpolated(at: Callable[[int], float], count: int, share: float) -> float:
    """`percentile` of `count` values in order, the one of rank i being `at(i)`."""
    position = share * (count - 1)
    low = math.floor(position)
    high = min(low + 1, count - 1)
    return at(low) + (at(high) - at(low)) * (position - low)


@dataclass(frozen=True)
class Quantiles:
    """Which percentiles make an ETR: the range told to customers and its headline."""

    earliest: float = 0.2
    expected: float = 0.5
    latest: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.earliest < self.expected < self.latest < 1:
            raise ValueError("ETR quantiles need 0 < earliest < expected < latest < 1")


DEFAULT_QUANTILES = Quantiles()


@dataclass(frozen=True)
class Spread:
    """Seconds from now at the three quantiles, in order."""

    earliest_s: float
    expected_s: float
    latest_s: float

    def plus(self, seconds: float) -> "Spread":
        return Spread(self.earliest_s + seconds, self.expected_s + seconds, self.latest_s + seconds)


@dataclass(frozen=True)
class RepairSample:
    """One closed incident: how long from the crew on site to power back."""

    device_kind: str
    cause: str | None
    duration_s: float
    daytime: bool | None = None
    """Whether the crew arrived by day (local time); None when not known."""
    storm: bool | None = None
    """Whether it was estimated in a storm; None when not known."""


class Basis(StrEnum):
    ASSESSED = "assessed"
    """Someone saw the damage and said how long it takes."""
    KIND_AND_CAUSE = "kind_and_cause"
    KIND = "kind"
    DEFAULT = "default"


@dataclass(frozen=True)
class RepairEstimate:
    spread: Spread
    """Repair seconds (left) at the quantiles."""
    basis: Basis
    samples: int
    """Closed incidents behind it; 0 for a default."""

    @property
    def expected_s(self) -> float:
        return self.spread.expected_s


def _default_spread(
    device_kind: str, quantiles: Quantiles, defaults: Mapping[str, tuple[int, int]]
) -> Spread:
    median_min, p90_min = defaults.get(device_kind, FALLBACK_REPAIR_MIN)
    sigma = math.log(p90_min / median_min) / _DEFAULT_SPREAD_Z

    def at(share: float) -> float:
        return 60 * median_min * math.exp(sigma * NormalDist().inv_cdf(share))

    return Spread(at(quantiles.earliest), at(quantiles.expected), at(quantiles.latest))


_Conditions = tuple[str | None, bool | None, bool | None]
"""A repair's cause, storm and daytime, each None when not known (or not counted)."""


@dataclass(frozen=True)
class _Fit:
    """Log-durations as the kind's level plus one term per condition (cause, storm,
    daytime), each fitted on the repairs of all kinds by backfitting medians: a night
    slows a fuse's repair as it slows a line's, so a group too small for its own
    percentiles still gets its conditions' effect, learnt from the others."""

    kinds: Mapping[str, float]
    effects: tuple[Mapping[Hashable, float], ...]
    """Per condition (cause, storm, daytime): its effect by level."""
    typical: tuple[float, ...]
    """Per condition: its effect averaged over the repairs, for a condition not known."""
    residuals: Mapping[str, tuple[float, ...]]
    """By kind: the repairs' log-durations less their fit, in increasing order."""

    @classmethod
    def of(
        cls,
        rows: Sequence[tuple[str, _Conditions, float]],
        *,
        rounds: int = 8,
        tolerance: float = 1e-9,
    ) -> "_Fit":
        """Backfitted: each round, the kinds' levels then each condition's effects, as
        the medians of what the others leave; until a round moves none by more than
        `tolerance`, or after `rounds`."""
        width = len(rows[0][1]) if rows else 0
        y = np.fromiter((row[2] for row in rows), dtype=float, count=len(rows))
        kind_names, kind_of = _grouped([row[0] for row in rows])
        kind_groups = _members(kind_of, len(kind_names))
        level_names: list[Sequence[Hashable]] = []
        level_of: list[np.ndarray] = []
        level_groups: list[list[np.ndarray]] = []
        for n in range(width):
            names, index = _grouped([row[1][n] for row in rows])
            level_names.append(names)
            level_of.append(index)
            level_groups.append(_members(index, len(names)))
        kinds = np.zeros(len(kind_names))
        effects = [np.zeros(len(names)) for names in level_names]

        def conditions() -> np.ndarray:
            total = np.zeros(len(rows))
            for n in range(width):
                total += effects[n][level_of[n]]
            return total

        for _ in range(rounds):
            moved = 0.0
            partial = y - conditions()
            new = np.array([np.median(partial[members]) for members in kind_groups])
            moved = max(moved, float(np.max(np.abs(new - kinds), initial=0.0)))
            kinds = new
            for n in range(width):
                partial = y - kinds[kind_of] - conditions() + effects[n][level_of[n]]
                new = np.array([np.median(partial[members]) for members in level_groups[n]])
                moved = max(moved, float(np.max(np.abs(new - effects[n]), initial=0.0)))
                effects[n] = new
            if moved <= tolerance:
                break
        residuals = y - kinds[kind_of] - conditions()
        typical = tuple(float(np.mean(effects[n][level_of[n]])) for n in range(width))
        return cls(
            kinds=dict(zip(kind_names, kinds.tolist(), strict=True)),
            effects=tuple(
                dict(zip(level_names[n], effects[n].tolist(), strict=True)) for n in range(width)
            ),
            typical=typical,
            residuals={
                kind: tuple(np.sort(residuals[members]).tolist())
                for kind, members in zip(kind_names, kind_groups, strict=True)
            },
        )

    def log_median(self, kind: str, levels: Sequence[Hashable]) -> float:
        return self.kinds[kind] + sum(
            self.effects[n][level] if level in self.effects[n] else self.typical[n]
            for n, level in enumerate(levels)
        )


_Key = TypeVar("_Key", bound=Hashable)


def _grouped(values: Sequence[_Key]) -> tuple[list[_Key], np.ndarray]:
    """The distinct values in order of appearance, and each value's index among them."""
    index: dict[_Key, int] = {}
    of = np.fromiter(
        (index.setdefault(value, len(index)) for value in values), dtype=np.intp, count=len(values)
    )
    return list(index), of


def _members(group_of: np.ndarray, groups: int) -> list[np.ndarray]:
    """Per group, the indices of its members."""
    return [np.flatnonzero(group_of == group) for group in range(groups)]


_ROUNDING_S = 1e-6
"""Durations rebuilt from logarithms are this close to the recorded ones."""


class RepairHistory:
    """Repair estimates from the closed incidents: the device kind's repairs, moved by
    the effect of the cause (when known), a storm and the time of day (`_Fit`)."""

    def __init__(
        self,
        samples: Iterable[RepairSample] = (),
        *,
        quantiles: Quantiles = DEFAULT_QUANTILES,
        min_samples: int = MIN_SAMPLES,
        defaults: Mapping[str, tuple[int, int]] = DEFAULT_REPAIR_MIN,
    ) -> None:
        self.quantiles = quantiles
        self.min_samples = min_samples
        self.defaults = defaults
        listed = [s for s in samples if s.duration_s > 0]
        count: dict[Hashable, int] = defaultdict(int)
        for sample in listed:
            count[("kind", sample.device_kind)] += 1
            count[("cause", sample.cause)] += 1
            count[("storm", sample.storm)] += 1
            count[("daytime", sample.daytime)] += 1
        self._count = dict(count)
        known = [s for s in listed if self._count[("kind", s.device_kind)] >= min_samples]
        self._with_cause = _Fit.of(
            [
                (s.device_kind, self._levels(s.cause, s.storm, s.daytime), math.log(s.duration_s))
                for s in known
            ]
        )
        self._without_cause = _Fit.of(
            [
                (s.device_kind, self._levels(None, s.storm, s.daytime), math.log(s.duration_s))
                for s in known
            ]
        )

    def _level(self, condition: str, value: Hashable) -> Hashable:
        """A condition's value, or None (not told apart) with fewer than `min_samples`."""
        return value if self._count.get((condition, value), 0) >= self.min_samples else None

    def _levels(self, cause: str | None, storm: bool | None, daytime: bool | None) -> _Conditions:
        level = self._level
        return (
            cause if level("cause", cause) is not None else None,
            storm if level("storm", storm) is not None else None,
            daytime if level("daytime", daytime) is not None else None,
        )

    def estimate(
        self,
        device_kind: str,
        cause: str | None = None,
        *,
        storm: bool | None = None,
        daytime: bool | None = None,
        elapsed_s: float = 0.0,
    ) -> RepairEstimate:
        """Repair time left after `elapsed_s` on site (the whole repair before arrival):
        the kind's repairs as they would have gone in these conditions (its residuals
        about the fit's median for them); by cause when the cause is known with enough
        repairs, else of any cause."""
        q = self.quantiles
        samples = self._count.get(("kind", device_kind), 0)
        if samples >= self.min_samples:
            levels = self._levels(cause, storm, daytime)
            by_cause = levels[0] is not None
            fit = self._with_cause if by_cause else self._without_cause
            middle = fit.log_median(device_kind, levels)
            residuals = fit.residuals[device_kind]

            def remaining(r: float) -> float:
                """The time left of the repair of residual `r`: increasing in `r`."""
                return math.exp(middle + r) - elapsed_s

            # The repairs that took longer than `elapsed_s`: the residuals from `first` on.
            first = bisect_left(residuals, True, key=lambda r: remaining(r) > _ROUNDING_S)
            longer = len(residuals) - first
            if longer >= self.min_samples:

                def at(share: float) -> float:
                    return _interpolated(lambda i: remaining(residuals[first + i]), longer, share)

                spread = Spread(at(q.earliest), at(q.expected), at(q.latest))
                basis = Basis.KIND_AND_CAUSE if by_cause else Basis.KIND
                return RepairEstimate(spread=spread, basis=basis, samples=longer)
        whole = _default_spread(device_kind, q, self.defaults)

        def left(seconds: float) -> float:
            return max(seconds - elapsed_s, MIN_REMAINING_SHARE * seconds)

        spread = Spread(left(whole.earliest_s), left(whole.expected_s), left(whole.latest_s))
        return RepairEstimate(spread=spread, basis=Basis.DEFAULT, samples=0)

    def assessed(
        self,
        device_kind: str,
        work_s: float,
        *,
        storm: bool | None = None,
        daytime: bool | None = None,
    ) -> RepairEstimate:
        """Damage someone assessed: their work is the expected repair, its range as wide,
        relative to it, as the kind's repairs are."""
        like = self.estimate(device_kind, storm=storm, daytime=daytime)
        scale = work_s / like.expected_s
        spread = Spread(like.spread.earliest_s * scale, work_s, like.spread.latest_s * scale)
        return RepairEstimate(spread=spread, basis=Basis.ASSESSED, samples=like.samples)


@dataclass(frozen=True)
class Outcome:
    """An estimate once told, and what happened: seconds from when it was made."""

    stage: Stage
    storm: bool
    estimate: Spread
    """Before calibration: what the parts added up to."""
    actual_s: float
    """Until the power came back."""


@dataclass(frozen=True)
class Correction:
    """Factors on an estimate's seconds, one per quantile."""

    earliest: float = 1.0
    expected: float = 1.0
    latest: float = 1.0
    outcomes: int = 0
    """Behind it; 0: no correction."""

    def apply(self, spread: Spread) -> Spread:
        earliest = spread.earliest_s * self.earliest
        expected = max(spread.expected_s * self.expected, earliest)
        return Spread(earliest, expected, max(spread.latest_s * self.latest, expected))


def _conformal_factor(scores: Sequence[float], share: float) -> float:
    """The factor that puts `share` of the outcomes at or below their estimate: the
    split-conformal quantile of log(actual / estimate), at rank ceil((n + 1) * share)."""
    ordered = sorted(scores)
    rank = min(len(ordered), math.ceil((len(ordered) + 1) * share))
    return math.exp(ordered[max(rank, 1) - 1])


MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2)
"""The standard error of a median is this times that of a mean (normal scores, many)."""


def _beyond_noise(scores: Sequence[float], factor: float) -> float:
    """The headline's factor, or none (1) when it is within two standard errors of a
    median of the outcomes' log-ratios (`scores`): a correction of the noise adds noise."""
    error = (
        MEDIAN_SE_FACTOR * statistics.stdev(scores) / math.sqrt(len(scores))
        if len(scores) > 1
        else 0
    )
    return factor if abs(math.log(factor)) > 2 * error else 1.0


MIN_SECONDS = 60.0
"""Shorter times are taken as a minute: a ratio to nothing says nothing."""


class Calibration:
    """Corrections learnt from the estimates told before and what happened to them, by
    stage and storm, else by stage; none where there are fewer than `min_outcomes`."""

    def __init__(
        self,
        outcomes: Iterable[Outcome] = (),
        *,
        quantiles: Quantiles = DEFAULT_QUANTILES,
        min_outcomes: int = MIN_OUTCOMES,
    ) -> None:
        groups: dict[tuple[Stage, bool | None], list[Outcome]] = defaultdict(list)
        for outcome in outcomes:
            groups[(outcome.stage, outcome.storm)].append(outcome)
            groups[(outcome.stage, None)].append(outcome)
        self._corrections = {
            key: self._correction(members, quantiles)
            for key, members in groups.items()
            if len(members) >= min_outcomes
        }

    @staticmethod
    def _correction(outcomes: Sequence[Outcome], quantiles: Quantiles) -> Correction:
        def scores(seconds: str) -> list[float]:
            """The outcomes' log(actual / estimate) at one quantile."""
            return [
                math.log(
                    max(o.actual_s, MIN_SECONDS) / max(getattr(o.estimate, seconds), MIN_SECONDS)
                )
                for o in outcomes
            ]

        headline = scores("expected_s")
        return Correction(
            earliest=_conformal_factor(scores("earliest_s"), quantiles.earliest),
            expected=_beyond_noise(headline, _conformal_factor(headline, quantiles.expected)),
            latest=_conformal_factor(scores("latest_s"), quantiles.latest),
            outcomes=len(outcomes),
        )

    def correction(self, stage: Stage, storm: bool) -> Correction:
        return (
            self._corrections.get((stage, storm))
            or self._corrections.get((stage, None))
            or Correction()
        )


DAY_HOURS = range(7, 19)
"""Local hours counted as day: repairs by night are slower (light, fewer hands)."""


def daytime(moment: datetime, zone: tzinfo) -> bool:
    return moment.astimezone(zone).hour in DAY_HOURS


def assessment_s(device_kind: str) -> float:
    """Time to find the fault once in the area, by device kind."""
    return 60 * DEFAULT_ASSESSMENT_MIN.get(device_kind, FALLBACK_ASSESSMENT_MIN)


def assessment_to_come(device_kind: str, repair: RepairEstimate) -> float:
    """Time to find the fault still to add to `repair`: none when the repair is of the
    history (timed from the crew on site, finding the fault included) or assessed (found
    already); the kind's assessment on top of a default."""
    return assessment_s(device_kind) if repair.basis is Basis.DEFAULT else 0.0


def crew_backlog_s(plan: Plan, job_id: int) -> float | None:
    """Seconds from the plan's making until the crew sets off for the job: the jobs ahead
    of it on the crew's route (and the wait for its shift). None when nobody has it."""
    visit = plan.visit_of(job_id)
    if visit is None:
        return None
    departure = visit.arrival - timedelta(seconds=visit.travel_s)
    return max(0.0, (departure - plan.made_at).total_seconds())


@dataclass(frozen=True)
class ManualEtr:
    """An ETR a crew or a dispatcher set."""

    at: datetime
    source: EtrSource


@dataclass(frozen=True)
class Etr:
    expected: datetime
    """The headline: as likely earlier as later."""
    earliest: datetime | None
    latest: datetime | None
    """The range it likely falls in; None for a crew's or a dispatcher's own time."""
    source: EtrSource
    stage: Stage
    storm: bool = False
    raw: Spread | None = None
    """The parts' sum before calibration (seconds from `made_at`), kept with the
    estimate's record so that later calibrations compare like with like."""
    made_at: datetime | None = None
    backlog_s: float = 0.0
    travel_s: float = 0.0
    assessment_s: float = 0.0
    repair: RepairEstimate | None = None
    """None when set by hand."""

    @property
    def deadline(self) -> datetime:
        """The time that must not pass with the power still off and nobody told."""
        return self.latest or self.expected


def estimate_etr(
    *,
    now: datetime,
    repair: RepairEstimate,
    stage: Stage,
    travel_s: float = 0.0,
    assessment_s: float = 0.0,
    backlog_s: float = 0.0,
    storm: bool = False,
    manual: ManualEtr | None = None,
    calibration: Calibration | None = None,
) -> Etr:
    """The ETR of one incident: the manual one until it is about to lapse, else the
    estimate, calibrated for its stage and whether a storm is on.

    Pass travel and assessment as still to come: both are 0 once the crew is on site
    (and `repair` is then the time left, see `RepairHistory.estimate`).
    """
    if manual is not None and not needs_reestimate(manual.at, now):
        return Etr(
            expected=manual.at, earliest=None, latest=None, source=manual.source, stage=stage
        )
    raw = repair.spread.plus(backlog_s + travel_s + assessment_s)
    told = (calibration or Calibration()).correction(stage, storm).apply(raw)
    return Etr(
        expected=now + timedelta(seconds=told.expected_s),
        earliest=now + timedelta(seconds=told.earliest_s),
        latest=now + timedelta(seconds=told.latest_s),
        source=EtrSource.PREDICTED,
        stage=stage,
        storm=storm,
        raw=raw,
        made_at=now,
        backlog_s=backlog_s,
        travel_s=travel_s,
        assessment_s=assessment_s,
        repair=repair,
    )


def last_of(etrs: Iterable[Etr]) -> tuple[datetime, datetime] | None:
    """One time for many outages (a storm's, a region's): when the last of them is
    expected back, and the latest of their ranges. None for none."""
    listed = list(etrs)
    if not listed:
        return None
    return max(e.expected for e in listed), max(e.deadline for e in listed)


def needs_reestimate(etr: datetime, now: datetime, margin: timedelta = REESTIMATE_MARGIN) -> bool:
    """Whether an ETR lapses within `margin` (or already has): time to estimate again.
    Pass a range's latest time: its expected one may pass, its latest may not."""
    return etr - now <= margin
