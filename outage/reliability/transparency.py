"""The published service figures (`/transparency` and its open data): per region and month,
the IEEE 1366 indices; per request type and month, customer care's work.

Computed from the same records, by the same functions, as the supervisor dashboard:

- reliability: `monthly_indices_by_region` (`outage.reliability.service`), the months of
  the system and of every region (substation) with customers, from one reading of the
  interruptions; the system's months are `monthly_indices`' (the dashboard's charts) and
  each month's are those of `reliability_report` of that month (`GET /api/v1/reliability`).
  Major Event Days are the system's, their threshold from the five years before the first
  month published;
- customer care: per month, `sla_compliance` and `satisfaction` of the care dashboard
  (`outage.care.dashboard`) over the month, with what they do not count (requests
  received, the median time to close, ratings by type) counted here over the same window.

Only counts, shares, durations and names of regions and request types: no customer, no
ticket, no address, no comment. Months are whole calendar months in the local time zone,
and only months that have ended are published.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, extract, func, select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage import clock
from outage.care import dashboard
from outage.care.enums import RequestType
from outage.care.models import ServiceRequest
from outage.errors import Invalid
from outage.reliability import service
from outage.reliability.indices import Indices

DEFAULT_MONTHS = 12
"""Without a range, the last this many complete months."""
MAX_MONTHS = 24
"""A longer range is refused."""


class InvalidMonths(Invalid, ValueError):
    """A range of months that cannot be published: malformed, reversed, too long, or not
    over yet."""


@dataclass(frozen=True)
class AreaMonth:
    """One month of one region (or of the whole system: `area` None)."""

    area: str | None
    month: date
    """The first day of the month."""
    customers_served: int
    saidi: float
    """Unplanned minutes without supply per customer served, Major Event Days included."""
    saifi: float
    saidi_without_med: float
    saifi_without_med: float
    planned_saidi: float
    planned_saifi: float
    caidi: float | None
    """Average minutes to restore a customer (unplanned, Major Event Days included); None
    without a sustained interruption."""
    caidi_without_med: float | None
    customer_interruptions: int
    """Unplanned sustained customer interruptions, Major Event Days included."""
    major_event_days: tuple[date, ...]


@dataclass(frozen=True)
class TypeMonth:
    """One month of one request type's customer care."""

    type: RequestType
    month: date
    received: int
    closed: int
    closed_within_sla: int
    median_hours_to_close: float | None
    """Of the requests closed in the month; None when none was."""
    ratings: int
    mean_rating: float | None

    @property
    def share_within_sla(self) -> float | None:
        return self.closed_within_sla / self.closed if self.closed else None


@dataclass(frozen=True)
class Figures:
    first_month: date
    last_month: date
    as_of: datetime
    t_med: float | None
    """The system's Major Event Day threshold (minutes per customer in a day), if known."""
    system: tuple[AreaMonth, ...]
    areas: tuple[AreaMonth, ...]
    """Every region's months, by region then month."""
    care: tuple[TypeMonth, ...]
    """By month, then type in the order of `RequestType`."""


def month_of(value: str, name: str) -> date:
    """`YYYY-MM` as the first day of that month."""
    try:
        year, month = value.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(value)
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise InvalidMonths(f"{name}: {value!r} is not a month (YYYY-MM)") from exc


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def month_range(first: date | None, last: date | None, *, today: date) -> tuple[date, date]:
    """The months to publish, first and last included: by default the last
    `DEFAULT_MONTHS` complete months (or those up to `last`, or from `first`)."""
    current = today.replace(day=1)
    if last is None:
        last = (
            _shift(first, DEFAULT_MONTHS - 1)
            if first is not None and _shift(first, DEFAULT_MONTHS - 1) < current
            else _shift(current, -1)
        )
    if first is None:
        first = _shift(last, -(DEFAULT_MONTHS - 1))
    for month in (first, last):
        if month.year not in service.YEARS:
            raise InvalidMonths(f"{month:%Y-%m} is outside the years we publish")
    if last >= current:
        raise InvalidMonths(f"{last:%Y-%m} is not over yet: only complete months are published")
    if first > last:
        raise InvalidMonths(f"the range ends ({last:%Y-%m}) before it starts ({first:%Y-%m})")
    if months_between(first, last) > MAX_MONTHS:
        raise InvalidMonths(f"at most {MAX_MONTHS} months at a time")
    return first, last


def _area_month(area: str | None, found: service.MonthlyIndices) -> AreaMonth:
    with_med: Indices = found.with_major_events
    without: Indices = found.without_major_events
    return AreaMonth(
        area=area,
        month=found.month,
        customers_served=with_med.customers_served,
        saidi=with_med.saidi,
        saifi=with_med.saifi,
        saidi_without_med=without.saidi,
        saifi_without_med=without.saifi,
        planned_saidi=found.planned.saidi,
        planned_saifi=found.planned.saifi,
        caidi=with_med.caidi,
        caidi_without_med=without.caidi,
        customer_interruptions=with_med.customer_interruptions,
        major_event_days=found.major_event_dates,
    )


@dataclass(frozen=True)
class _Extra:
    received: int = 0
    median_hours: float | None = None
    ratings: int = 0
    mean_rating: float | None = None


def _care_extras(session: Session, since: datetime, until: datetime) -> dict[RequestType, _Extra]:
    """Per type: requests received in [since, until), the median hours from receipt to
    close of those closed in it, the ratings given in it (as the dashboard counts them)."""
    kind = ServiceRequest.request_type
    received: dict[str, int] = {
        t: n
        for t, n in session.execute(
            select(kind, func.count())
            .where(ServiceRequest.received_at >= since, ServiceRequest.received_at < until)
            .group_by(kind)
        ).tuples()
    }
    hours = extract("epoch", ServiceRequest.closed_at - ServiceRequest.received_at) / 3600
    medians: dict[str, float] = {
        t: float(median)
        for t, median in session.execute(
            select(kind, func.percentile_cont(0.5).within_group(hours))
            .where(and_(ServiceRequest.closed_at >= since, ServiceRequest.closed_at < until))
            .group_by(kind)
        ).tuples()
        if median is not None
    }
    rated: dict[str, tuple[int, float]] = {
        t: (n, float(mean))
        for t, n, mean in session.execute(
            select(kind, func.count(), func.avg(ServiceRequest.rating))
            .where(
                ServiceRequest.rated_at >= since,
                ServiceRequest.rated_at < until,
                ServiceRequest.rating.is_not(None),
            )
            .group_by(kind)
        ).tuples()
        if mean is not None
    }
    return {
        RequestType(t): _Extra(
            received=received.get(t, 0),
            median_hours=medians.get(t),
            ratings=rated[t][0] if t in rated else 0,
            mean_rating=rated[t][1] if t in rated else None,
        )
        for t in {*received, *medians, *rated}
    }


def care_month(session: Session, month: date, *, zone: tzinfo, now: datetime) -> list[TypeMonth]:
    """Every request type's figures of one month, in the order of `RequestType`."""
    since = datetime.combine(month, time(), zone)
    until = datetime.combine(_shift(month, 1), time(), zone)
    extras = _care_extras(session, since, until)
    answer = []
    for row in dashboard.sla_compliance(session, since=since, until=until, now=now):
        extra = extras.get(row.type, _Extra())
        answer.append(
            TypeMonth(
                type=row.type,
                month=month,
                received=extra.received,
                closed=row.closed,
                closed_within_sla=row.met,
                median_hours_to_close=extra.median_hours,
                ratings=extra.ratings,
                mean_rating=extra.mean_rating,
            )
        )
    return answer


def published_figures(
    session: Session,
    *,
    first: date | None = None,
    last: date | None = None,
    zone: tzinfo,
    topology: Topology | None = None,
    as_of: datetime | None = None,
    min_customers: int = 1,
) -> Figures:
    """The figures of the months from `first` to `last` (first days of months; by default
    the last `DEFAULT_MONTHS` complete ones). A network without customers publishes care
    figures only; a region serving fewer than `min_customers` is left out (its few
    households could be picked out), counted in the system's figures only."""
    now = as_of or clock.now()
    first, last = month_range(first, last, today=now.astimezone(zone).date())
    end = _shift(last, 1) - timedelta(days=1)
    try:
        found = service.monthly_indices_by_region(
            session, first, end, zone=zone, topology=topology, as_of=now
        )
        system, regions, threshold = found.system, found.regions, found.threshold
    except service.UnknownScope:
        system, regions, threshold = [], {}, None
    month = first
    care: list[TypeMonth] = []
    while month <= last:
        care += care_month(session, month, zone=zone, now=now)
        month = _shift(month, 1)
    return Figures(
        first_month=first,
        last_month=last,
        as_of=now,
        t_med=threshold.t_med if threshold is not None else None,
        system=tuple(_area_month(None, m) for m in system),
        areas=tuple(
            area
            for name, months in regions.items()
            for area in (_area_month(name, m) for m in months)
            if area.customers_served >= min_customers
        ),
        care=tuple(care),
    )
