"""Estimated time of restoration (ETR) of an incident: backlog + travel + assessment + repair.

- Repair (crew on site to power back) comes from the durations of closed incidents: of
  the same device kind and cause when there are at least `min_samples` of them, else of
  the same device kind, else a default per device kind. Two percentiles, not a mean:
  the median is the expected time, the 90th percentile the cautious one (the one to tell
  customers: most repairs beat it). Once the crew has been on site a while, the estimate
  is of the time left, from the closed incidents that took longer than that.
- Assessment is finding the fault once in the area (patrolling a line), per device kind.
- Travel is the crew's drive there (`dispatch.travel`, or the plan's visit).
- In storm mode the crew's backlog counts: the jobs ahead of this one in its plan
  (`crew_backlog_s`). Outside a storm a crew goes at once, and the backlog is ignored.
- An ETR a crew or dispatcher set wins over any estimate while it lies ahead; once it
  has passed, the estimate takes over.
- `needs_reestimate` says when an ETR is about to lapse, so it is re-estimated (and the
  customers told) before it does.

Pure: plain values in, plain values out.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from dispatch.model import Plan


class EtrSource(StrEnum):
    """Who gave the estimated time of restoration: a crew's word beats an estimate (an
    incident's `etr_source` too)."""

    PREDICTED = "predicted"
    CREW = "crew"
    DISPATCHER = "dispatcher"


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
"""(expected, cautious) minutes of repair per device kind, before there is any history."""

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
TYPICAL = 0.5
CAUTIOUS = 0.9
REESTIMATE_MARGIN = timedelta(minutes=15)
MIN_REMAINING_SHARE = 0.25
"""With no history to go by, a repair overrunning its default still has this share of
the default to go."""


def percentile(values: Sequence[float], share: float) -> float:
    """Linear interpolation between the closest ranks; `share` in [0, 1]."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class RepairSample:
    """One closed incident: how long from the crew on site to power back."""

    device_kind: str
    cause: str | None
    duration_s: float


class Basis(StrEnum):
    KIND_AND_CAUSE = "kind_and_cause"
    KIND = "kind"
    DEFAULT = "default"


@dataclass(frozen=True)
class RepairEstimate:
    typical_s: float
    """The median: as likely shorter as longer."""
    cautious_s: float
    """The 90th percentile (`CAUTIOUS`): few repairs take longer."""
    basis: Basis
    samples: int
    """Closed incidents behind it; 0 for a default."""


class RepairHistory:
    """Repair estimates from the closed incidents, by device kind and cause."""

    def __init__(
        self,
        samples: Iterable[RepairSample] = (),
        *,
        min_samples: int = MIN_SAMPLES,
        typical: float = TYPICAL,
        cautious: float = CAUTIOUS,
        defaults: Mapping[str, tuple[int, int]] = DEFAULT_REPAIR_MIN,
    ) -> None:
        self.min_samples = min_samples
        self.typical = typical
        self.cautious = cautious
        self.defaults = defaults
        self._by_cause: dict[tuple[str, str], list[float]] = defaultdict(list)
        self._by_kind: dict[str, list[float]] = defaultdict(list)
        for sample in samples:
            if sample.cause is not None:
                self._by_cause[(sample.device_kind, sample.cause)].append(sample.duration_s)
            self._by_kind[sample.device_kind].append(sample.duration_s)

    def estimate(
        self, device_kind: str, cause: str | None = None, *, elapsed_s: float = 0.0
    ) -> RepairEstimate:
        """Repair time left after `elapsed_s` on site (the whole repair before arrival)."""
        candidates = []
        if cause is not None:
            candidates.append((Basis.KIND_AND_CAUSE, self._by_cause.get((device_kind, cause))))
        candidates.append((Basis.KIND, self._by_kind.get(device_kind)))
        for basis, durations in candidates:
            longer = [d - elapsed_s for d in durations or () if d > elapsed_s]
            if len(longer) >= self.min_samples:
                return RepairEstimate(
                    typical_s=percentile(longer, self.typical),
                    cautious_s=percentile(longer, self.cautious),
                    basis=basis,
                    samples=len(longer),
                )
        typical_min, cautious_min = self.defaults.get(device_kind, FALLBACK_REPAIR_MIN)
        typical, cautious = typical_min * 60, cautious_min * 60
        return RepairEstimate(
            typical_s=max(typical - elapsed_s, MIN_REMAINING_SHARE * typical),
            cautious_s=max(cautious - elapsed_s, MIN_REMAINING_SHARE * cautious),
            basis=Basis.DEFAULT,
            samples=0,
        )


def assessment_s(device_kind: str) -> float:
    """Time to find the fault once in the area, by device kind."""
    return 60 * DEFAULT_ASSESSMENT_MIN.get(device_kind, FALLBACK_ASSESSMENT_MIN)


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
    """With the median repair: the dispatcher's planning figure."""
    cautious: datetime
    """With the cautious repair: the one to tell customers. Equal to `expected` when set
    by hand."""
    source: EtrSource
    backlog_s: float = 0.0
    travel_s: float = 0.0
    assessment_s: float = 0.0
    repair: RepairEstimate | None = None
    """None when set by hand."""


def estimate_etr(
    *,
    now: datetime,
    repair: RepairEstimate,
    travel_s: float = 0.0,
    assessment_s: float = 0.0,
    backlog_s: float = 0.0,
    storm: bool = False,
    manual: ManualEtr | None = None,
) -> Etr:
    """The ETR of one incident: the manual one while it lies ahead, else the estimate.

    Pass travel and assessment as still to come: both are 0 once the crew is on site
    (and `repair` is then the time left, see `RepairHistory.estimate`).
    """
    if manual is not None and manual.at > now:
        return Etr(expected=manual.at, cautious=manual.at, source=manual.source)
    backlog = backlog_s if storm else 0.0
    before_repair = backlog + travel_s + assessment_s
    return Etr(
        expected=now + timedelta(seconds=before_repair + repair.typical_s),
        cautious=now + timedelta(seconds=before_repair + repair.cautious_s),
        source=EtrSource.PREDICTED,
        backlog_s=backlog,
        travel_s=travel_s,
        assessment_s=assessment_s,
        repair=repair,
    )


def needs_reestimate(etr: datetime, now: datetime, margin: timedelta = REESTIMATE_MARGIN) -> bool:
    """Whether an ETR lapses within `margin` (or already has): time to estimate again."""
    return etr - now <= margin
