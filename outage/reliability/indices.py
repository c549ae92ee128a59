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
from dataclasses import dataclass, fields
from datetime import timedelta

from outage.incidents.interruptions import InterruptionRecord as InterruptionRecord
from outage.incidents.interruptions import merge_overlaps as merge_overlaps

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


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


MICROSECOND = timedelta(microseconds=1)


@dataclass
class Totals:
    """What the indices of a set of interruptions are made of, counted per customer: the
    totals of customers apart add up, so a report sums those counted from the stored
    spells (`outage.reliability.counting`) with those counted here (`totals_of`). Lengths
    in whole microseconds, exact in any order."""

    customer_interruptions: int = 0
    customer_us: int = 0
    customers_interrupted: int = 0
    momentary_events: int = 0
    over_n: int = 0
    """Customers with more than n sustained interruptions (CEMI_n)."""
    single_over_t: int = 0
    """Customers with one sustained interruption longer than t (CELID-s)."""
    total_over_t: int = 0
    """Customers out longer than t in all (CELID-t)."""

    def add(self, other: "Totals") -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def totals_of(records: Iterable[InterruptionRecord], *, n: int, celid_limit: timedelta) -> Totals:
    """The totals of these records, merged first (see the module's conventions)."""
    merged = merge_overlaps(records)
    by_customer: dict[str, list[int]] = {}
    for record in merged:
        if not record.momentary:
            by_customer.setdefault(record.customer, []).append(record.duration // MICROSECOND)
    limit = celid_limit // MICROSECOND
    return Totals(
        customer_interruptions=sum(len(lengths) for lengths in by_customer.values()),
        customer_us=sum(sum(lengths) for lengths in by_customer.values()),
        customers_interrupted=len(by_customer),
        momentary_events=momentary_events(merged),
        over_n=sum(1 for lengths in by_customer.values() if len(lengths) > n),
        single_over_t=sum(1 for lengths in by_customer.values() if max(lengths) > limit),
        total_over_t=sum(1 for lengths in by_customer.values() if sum(lengths) > limit),
    )


def indices_of(totals: Totals, *, customers_served: int, period: timedelta) -> Indices:
    """Every index of these totals, for `customers_served` customers over `period`."""
    _check_served(customers_served)
    if period <= timedelta(0):
        raise ValueError(f"the period must be positive, not {period}")
    minutes = totals.customer_us / (MINUTE // MICROSECOND)
    interruptions = totals.customer_interruptions
    available = customers_served * (period / HOUR)
    return Indices(
        customers_served=customers_served,
        saifi=interruptions / customers_served,
        saidi=minutes / customers_served,
        caidi=minutes / interruptions if interruptions else None,
        caifi=(
            interruptions / totals.customers_interrupted if totals.customers_interrupted else None
        ),
        asai=(available - minutes / 60) / available,
        maifi_e=totals.momentary_events / customers_served,
        cemi_n=totals.over_n / customers_served,
        celid_s=totals.single_over_t / customers_served,
        celid_t=totals.total_over_t / customers_served,
        customer_interruptions=interruptions,
        customer_minutes=minutes,
        customers_interrupted=totals.customers_interrupted,
        momentary_events=totals.momentary_events,
    )
