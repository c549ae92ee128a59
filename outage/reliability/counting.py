"""The per-customer totals behind the IEEE 1366 indices, counted over millions of spells in
arrays: pure, numpy in, `Totals` out; no database.

Grouping a million customers' spells by customer in PostgreSQL takes seconds; the spells
read as columns (`outage.reliability.stored`) and counted here with `np.bincount` and
running totals take a fraction of that. The figures are those `totals_of` gives for the
same spells as records (the module's test holds them equal): sustained interruptions per
customer for SAIFI, SAIDI, CAIFI, CEMI_n and CELID, and MAIFI_E's momentary events
counted per customer and event, not when the event also kept the customer out for long.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from outage.incidents.lifecycle import MOMENTARY_LIMIT
from outage.reliability.indices import MICROSECOND, Totals

DIRECT_BINS = 1 << 24
"""Customers by group counted in arrays of this many bins at most; beyond, the spells'
customers are numbered first (a sort)."""

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Spells:
    """Merged spells as columns, one row a spell: whose, in which group (window, region),
    on which day it began, how long and by which event."""

    customer: Ints
    group: Ints
    """0 to `groups` - 1: the totals are counted for each group apart."""
    day: Ints
    """The day it began, as an index into the Major Event Day mask."""
    us: Ints
    """Length in microseconds."""
    event: Ints
    planned: Bools

    @property
    def momentary(self) -> Bools:
        return self.us <= MOMENTARY_LIMIT // MICROSECOND


def part_masks(spells: Spells, major_event_days: Bools) -> tuple[Bools, Bools, Bools]:
    """The spells of each `outage.reliability.stored.Part`: unplanned, unplanned begun on
    other days than Major Event Days, planned."""
    unplanned = ~spells.planned
    major = major_event_days[spells.day] if spells.day.size else np.zeros(0, dtype=bool)
    return unplanned, unplanned & ~major, spells.planned.copy()


def _bins(keys: Ints, groups: int, width: int) -> tuple[Ints, Ints, int]:
    """Each spell's bin (a customer in a group), the group of each bin (in order), how many
    bins."""
    if groups * width <= DIRECT_BINS:
        return keys, np.arange(groups * width, dtype=np.int64) // width, groups * width
    found, inverse = np.unique(keys, return_inverse=True)
    return inverse.astype(np.int64), found // width, int(found.size)


def count(
    spells: Spells, parts: Sequence[Bools], *, groups: int, n: int, celid_limit: timedelta
) -> list[list[Totals]]:
    """The totals of each group, for each of `parts` (a choice of the spells)."""
    width = int(spells.customer.max()) + 1 if spells.customer.size else 1
    keys = spells.customer if groups == 1 else spells.group * width + spells.customer
    bins, group_of, size = _bins(keys, groups, width)
    edges = np.searchsorted(group_of, np.arange(groups + 1))
    momentary = spells.momentary
    return [
        _count(
            spells,
            _Bins(bins, group_of, size, edges),
            chosen & ~momentary,
            chosen & momentary,
            groups,
            n,
            celid_limit,
        )
        for chosen in parts
    ]


@dataclass(frozen=True)
class _Bins:
    of_spell: Ints
    group_of: Ints
    """Ascending: each group's bins are one run of them."""
    size: int
    edges: Ints
    """Where each group's bins begin, and the end of the last."""

    def by_group(self, per_bin: npt.NDArray[np.int64] | Bools) -> Ints:
        """The sums of each group's bins, in whole numbers: by the running total."""
        running = np.concatenate(([0], np.cumsum(per_bin, dtype=np.int64)))
        return running[self.edges[1:]] - running[self.edges[:-1]]


def _count(
    spells: Spells,
    bins: _Bins,
    sustained: Bools,
    momentary: Bools,
    groups: int,
    n: int,
    celid_limit: timedelta,
) -> list[Totals]:
    where = bins.of_spell[sustained]
    lengths = spells.us[sustained]
    limit = celid_limit // MICROSECOND
    per_bin = np.bincount(where, minlength=bins.size)
    # in floats, exactly: a customer's microseconds in a window stay far below 2**53
    us_bin = np.bincount(where, weights=lengths, minlength=bins.size).astype(np.int64)
    single = np.bincount(where[lengths > limit], minlength=bins.size) > 0
    events = _momentary_events(spells, bins.of_spell, bins.group_of, groups, momentary, sustained)
    interruptions = bins.by_group(per_bin)
    us_group = bins.by_group(us_bin)
    interrupted = bins.by_group(per_bin > 0)
    over_n = bins.by_group(per_bin > n)
    single_over = bins.by_group(single)
    total = bins.by_group(us_bin > limit)
    return [
        Totals(
            customer_interruptions=int(interruptions[g]),
            customer_us=int(us_group[g]),
            customers_interrupted=int(interrupted[g]),
            momentary_events=int(events[g]),
            over_n=int(over_n[g]),
            single_over_t=int(single_over[g]),
            total_over_t=int(total[g]),
        )
        for g in range(groups)
    ]


def _distinct(values: Ints) -> Ints:
    """The values once each, in order (a sort: faster than hashing for these keys)."""
    ordered = np.sort(values)
    return (
        ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if ordered.size else ordered
    )


def _momentary_events(
    spells: Spells, bins: Ints, group_of: Ints, groups: int, momentary: Bools, sustained: Bools
) -> Ints:
    """Per group: the (customer, event) pairs of momentary spells that no sustained spell
    of the same customer, event and group has."""
    if not momentary.any():
        return np.zeros(groups, dtype=np.int64)
    width = int(spells.event.max()) + 1
    pairs = _distinct(bins[momentary] * width + spells.event[momentary])
    has_momentary = np.zeros(group_of.size, dtype=bool)
    has_momentary[bins[momentary]] = True
    blinked = np.zeros(width, dtype=bool)
    blinked[spells.event[momentary]] = True
    long = sustained & has_momentary[bins] & blinked[spells.event]
    kept = pairs[~_within(pairs, np.sort(bins[long] * width + spells.event[long]))]
    return np.bincount(group_of[kept // width], minlength=groups)


def _within(values: Ints, ordered: Ints) -> Bools:
    """Whether each value is one of `ordered`'s (a search: `np.isin` hashes, slower here)."""
    if not ordered.size:
        return np.zeros(values.size, dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), ordered.size - 1)
    found: Bools = ordered[at] == values
    return found
