"""IEEE 1366-2012 reliability indices from per-customer interruption records.

Pure: records and counts in, figures out; no database, no HTTP.

Conventions, where the standard leaves a choice:

- An interruption longer than 5 minutes is sustained, one of 5 minutes or less momentary
  (`outage.incidents.lifecycle.MOMENTARY_LIMIT`). An interruption still going on counts as
  sustained, up to the time of the report.
- A customer who loses supply, and regains it only once, had one interruption, however
  many incidents kept them out meanwhile (a nested outage under a larger one): records of
  one customer that overlap or touch are merged first (`merge_overlaps`), so no minute is
  counted twice and the interruption belongs to the event that began it.
- Durations are in minutes (SAIDI, CAIDI); ASAI uses hours, as its definition does.
- MAIFI_E counts momentary interruption *events* per customer: several momentary records of
  one customer in one event count once, and not at all when that event also interrupted
  the customer for a sustained time (it is then a sustained interruption).
- CEMI_n counts customers with more than n sustained interruptions. CELID is given both
  ways: CELID-s (a single sustained interruption longer than t) and CELID-t (sustained
  interruptions adding up to more than t).
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from outage.incidents.lifecycle import MOMENTARY_LIMIT

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


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


@dataclass(frozen=True)
class Indices:
    """The IEEE 1366 indices of one set of interruptions, with the totals behind them."""

    customers_served: int
    saifi: float
    saidi: float
    """Minutes per customer served."""
    caidi: float | None
    """Minutes per customer interruption; None when there was no sustained interruption."""
    caifi: float | None
    """None when no customer had a sustained interruption."""
    asai: float
    maifi_e: float
    cemi_n: float
    celid_s: float
    celid_t: float
    customer_interruptions: int
    """Sustained customer interruptions (the numerator of SAIFI)."""
    customer_minutes: float
    """Sustained customer minutes interrupted (the numerator of SAIDI)."""
    customers_interrupted: int
    """Distinct customers with at least one sustained interruption."""
    momentary_events: int
    """Customer momentary interruption events (the numerator of MAIFI_E)."""


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


def _check_served(customers_served: int) -> None:
    if customers_served <= 0:
        raise ValueError(f"customers served must be positive, not {customers_served}")


def _sustained(records: Iterable[InterruptionRecord]) -> list[InterruptionRecord]:
    return [r for r in merge_overlaps(records) if not r.momentary]


def _minutes_by_customer(records: Iterable[InterruptionRecord]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for record in _sustained(records):
        totals[record.customer] = totals.get(record.customer, 0.0) + record.duration / MINUTE
    return totals


def _customer_minutes(records: Iterable[InterruptionRecord]) -> float:
    return sum(r.duration / MINUTE for r in _sustained(records))


def saifi(records: Iterable[InterruptionRecord], customers_served: int) -> float:
    """Sustained customer interruptions per customer served."""
    _check_served(customers_served)
    return len(_sustained(records)) / customers_served


def saidi(records: Iterable[InterruptionRecord], customers_served: int) -> float:
    """Sustained customer minutes interrupted per customer served."""
    _check_served(customers_served)
    return _customer_minutes(records) / customers_served


def caidi(records: Iterable[InterruptionRecord]) -> float | None:
    """Average minutes to restore a customer (SAIDI / SAIFI); None without interruptions."""
    sustained = _sustained(records)
    if not sustained:
        return None
    return sum(r.duration / MINUTE for r in sustained) / len(sustained)


def caifi(records: Iterable[InterruptionRecord]) -> float | None:
    """Sustained interruptions per customer who had any; None when nobody had one."""
    sustained = _sustained(records)
    customers = {r.customer for r in sustained}
    if not customers:
        return None
    return len(sustained) / len(customers)


def asai(records: Iterable[InterruptionRecord], customers_served: int, period: timedelta) -> float:
    """Share of customer hours in `period` with supply (sustained interruptions only)."""
    _check_served(customers_served)
    if period <= timedelta(0):
        raise ValueError(f"the period must be positive, not {period}")
    available = customers_served * (period / HOUR)
    return (available - _customer_minutes(records) / 60) / available


def momentary_events(records: Iterable[InterruptionRecord]) -> int:
    """Customer momentary interruption events, as MAIFI_E counts them."""
    merged = merge_overlaps(records)
    sustained = {(r.customer, r.event) for r in merged if not r.momentary}
    momentary = {(r.customer, r.event) for r in merged if r.momentary}
    return len(momentary - sustained)


def maifi_e(records: Iterable[InterruptionRecord], customers_served: int) -> float:
    """Customer momentary interruption events per customer served."""
    _check_served(customers_served)
    return momentary_events(records) / customers_served


def cemi(records: Iterable[InterruptionRecord], customers_served: int, n: int) -> float:
    """CEMI_n: share of customers served with more than `n` sustained interruptions."""
    _check_served(customers_served)
    if n < 0:
        raise ValueError(f"n must not be negative, not {n}")
    counts: dict[str, int] = {}
    for record in _sustained(records):
        counts[record.customer] = counts.get(record.customer, 0) + 1
    return sum(1 for c in counts.values() if c > n) / customers_served


def celid_s(records: Iterable[InterruptionRecord], customers_served: int, t: timedelta) -> float:
    """CELID-s: share of customers served with a single sustained interruption longer than t."""
    _check_served(customers_served)
    return len({r.customer for r in _sustained(records) if r.duration > t}) / customers_served


def celid_t(records: Iterable[InterruptionRecord], customers_served: int, t: timedelta) -> float:
    """CELID-t: share of customers served out for longer than t in all (sustained)."""
    _check_served(customers_served)
    limit = t / MINUTE
    totals = _minutes_by_customer(records)
    return sum(1 for minutes in totals.values() if minutes > limit) / customers_served


def compute_indices(
    records: Iterable[InterruptionRecord],
    *,
    customers_served: int,
    period: timedelta,
    n: int,
    celid_limit: timedelta,
) -> Indices:
    """Every index of these records, for `customers_served` customers over `period`."""
    merged = merge_overlaps(records)
    sustained = [r for r in merged if not r.momentary]
    return Indices(
        customers_served=customers_served,
        saifi=saifi(merged, customers_served),
        saidi=saidi(merged, customers_served),
        caidi=caidi(merged),
        caifi=caifi(merged),
        asai=asai(merged, customers_served, period),
        maifi_e=maifi_e(merged, customers_served),
        cemi_n=cemi(merged, customers_served, n),
        celid_s=celid_s(merged, customers_served, celid_limit),
        celid_t=celid_t(merged, customers_served, celid_limit),
        customer_interruptions=len(sustained),
        customer_minutes=_customer_minutes(merged),
        customers_interrupted=len({r.customer for r in sustained}),
        momentary_events=momentary_events(merged),
    )
