"""Reliability reports: IEEE 1366 indices of a period for the system, a feeder or a region.

Three entry points, each taking a session and plain values:

- `reliability_report`: every index of a period, with and without Major Event Days, and
  planned interruptions apart (`GET /api/v1/reliability`);
- `daily_saidi` and `monthly_indices`: series for charts (the supervisor dashboard);
  `monthly_indices_by_region` the months of the system and of every region at once (the
  published figures, `outage.reliability.transparency`).

Rules the figures follow:

- An interruption belongs to the period (and to the day) in which it began, with its
  whole duration; days begin at midnight in the zone the caller gives (the
  `local_timezone` setting).
- The unplanned figures are the indices proper; planned interruptions (see
  `outage.reliability.records`) are reported on their own and are left out of the daily
  SAIDI behind Major Event Days.
- Major Event Days are the system's: T_MED comes from the daily SAIDI of the whole system
  over the five years before the period (`outage.reliability.med`), and a day above it is
  a Major Event Day for every feeder and region.
- Momentary interruptions smart meters told of, which make no incident, count for MAIFI_E
  too (`outage.reliability.meters`).
- Customers served are those connected now (the network keeps no history of them).
- A customer belongs to its normal feeder (and that feeder's substation), whichever
  feeder fed it when it was out: a feeder's report counts its own customers, so the
  customer minutes and the customers served are of the same people. Who an outage put
  out follows the network as operated at the time (`outage.reliability.records`), so a
  customer transferred to a neighbouring feeder and put out by that feeder's breaker
  counts in its own feeder's report.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from grid_topology.topology import Topology
from outage import clock
from outage.errors import Invalid
from outage.grid.models import Customer, Device, Feeder, Premise, Substation
from outage.reliability.indices import (
    HOUR,
    MINUTE,
    Indices,
    InterruptionRecord,
    compute_indices,
    merge_overlaps,
)
from outage.reliability.med import MedThreshold, history_start, major_event_days, med_threshold
from outage.reliability.meters import meter_momentaries
from outage.reliability.records import interruption_records

DEFAULT_CEMI_N = 3
"""CEMI_n counts customers with more than this many sustained interruptions."""
DEFAULT_CELID_HOURS = 8.0
"""CELID counts customers out for longer than this."""
MAX_PERIOD = timedelta(days=3661)
"""Longer periods are refused: ten years of interruptions is already a lot to derive."""

Moment = date | datetime
"""A day (the whole of it, in the local time zone) or an instant."""

YEARS = range(1900, 3000)
"""Periods start and end within these years: beyond them date arithmetic overflows (year 1,
year 9999) and no utility has records."""


class InvalidPeriod(Invalid, ValueError):
    """A period that cannot be reported on: reversed, empty, too long, or in the future."""


class UnknownScope(Invalid, LookupError):
    """A feeder or region we do not have, or one without customers."""


@dataclass(frozen=True)
class ReliabilityReport:
    start: datetime
    end: datetime
    """The period is [start, end)."""
    as_of: datetime
    """When the report was made: interruptions still going on count up to here."""
    feeder: str | None
    region: str | None
    """The substation whose feeders the report covers."""
    customers_served: int
    n: int
    """Of CEMI_n."""
    celid_hours: float
    """The t of CELID-s and CELID-t."""
    threshold: MedThreshold | None
    """The system's T_MED (minutes per day); None without two days with interruptions in
    the five years before the period."""
    major_event_days: list[date]
    with_major_events: Indices
    """Unplanned interruptions, Major Event Days included."""
    without_major_events: Indices
    """Unplanned interruptions that began on other days."""
    planned: Indices


@dataclass(frozen=True)
class DailyValue:
    day: date
    saidi: float
    """Unplanned sustained customer minutes of interruptions begun this day, per customer."""
    saifi: float
    major_event: bool


@dataclass(frozen=True)
class MonthlyIndices:
    month: date
    """The first day of the month."""
    with_major_events: Indices
    without_major_events: Indices
    major_event_days: int
    """How many of the month's days were Major Event Days (IEEE 1366, 2.5 beta)."""
    major_event_dates: tuple[date, ...]
    """Those days."""
    planned: Indices
    """Planned interruptions begun in the month, apart from the indices above."""


@dataclass(frozen=True)
class RegionalMonths:
    system: list[MonthlyIndices]
    regions: dict[str, list[MonthlyIndices]]
    """Each region (substation) with customers, by name."""
    threshold: MedThreshold | None
    """The system's T_MED, from the five years before the first month."""


@dataclass(frozen=True)
class _Scope:
    feeder: str | None
    region: str | None
    accounts: frozenset[str]


@dataclass(frozen=True)
class _Study:
    """The interruptions of a period in a scope, and the system's Major Event Days."""

    scope: _Scope
    start: datetime
    end: datetime
    as_of: datetime
    zone: tzinfo
    records: list[InterruptionRecord]
    """Merged, begun in the period, of the scope's customers: planned and unplanned."""
    threshold: MedThreshold | None
    major_event_days: frozenset[date]
    day_of: Callable[[InterruptionRecord], date]
    """The local day an interruption began."""

    def unplanned(self, *, major_events: bool = True) -> list[InterruptionRecord]:
        return [
            r
            for r in self.records
            if not r.planned and (major_events or self.day_of(r) not in self.major_event_days)
        ]

    def planned(self) -> list[InterruptionRecord]:
        return [r for r in self.records if r.planned]

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The part of [start, end) that has passed: the hours ASAI counts."""
        return min(end, self.as_of) - start


def _instant(moment: Moment, zone: tzinfo) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    return datetime.combine(moment, time(), zone)


def period_bounds(
    start: Moment, end: Moment, *, zone: tzinfo, as_of: datetime | None = None
) -> tuple[datetime, datetime]:
    """[start, end) as instants: days are whole days (`end` included), in the local
    time zone; times without a zone are read in it too."""
    for moment in (start, end):
        if moment.year not in YEARS:
            raise InvalidPeriod(
                f"{moment.isoformat()} is outside the years {YEARS.start}-{YEARS.stop - 1}"
            )
    begin = _instant(start, zone)
    if isinstance(end, datetime):
        finish = _instant(end, zone)
    else:
        finish = _instant(end + timedelta(days=1), zone)
    if finish <= begin:
        raise InvalidPeriod(f"the period ends ({end.isoformat()}) before it starts")
    if finish - begin > MAX_PERIOD:
        raise InvalidPeriod(f"a period may be at most {MAX_PERIOD.days} days long")
    if begin >= (as_of or clock.now()):
        raise InvalidPeriod(f"the period starts in the future ({start.isoformat()})")
    return begin, finish


def _scope(session: Session, feeder: str | None, region: str | None) -> _Scope:
    """The customers a report covers: a feeder's (by name or its head device's asset_ref),
    a substation's, or everyone's."""
    if feeder is not None and region is not None:
        raise UnknownScope("name a feeder or a region, not both")
    query: Select[tuple[str]] = select(Customer.account)
    if feeder is not None:
        head = aliased(Device)
        found = session.execute(
            select(Feeder.id, Feeder.name)
            .join(head, head.id == Feeder.head_device_id)
            .where(or_(Feeder.name == feeder, head.asset_ref == feeder))
            .order_by(Feeder.name != feeder)
        ).first()
        if found is None:
            raise UnknownScope(f"no feeder named {feeder!r}")
        feeder = found.name
        query = query.join(Premise, Premise.id == Customer.premise_id).where(
            Premise.feeder_id == found.id
        )
    elif region is not None:
        substation_id = session.scalar(select(Substation.id).where(Substation.name == region))
        if substation_id is None:
            raise UnknownScope(f"no region (substation) named {region!r}")
        query = (
            query.join(Premise, Premise.id == Customer.premise_id)
            .join(Feeder, Feeder.id == Premise.feeder_id)
            .where(Feeder.substation_id == substation_id)
        )
    accounts = frozenset(session.scalars(query))
    if not accounts:
        raise UnknownScope(f"{feeder or region or 'the system'} serves no customers")
    return _Scope(feeder, region, accounts)


def _day_counter(zone: tzinfo) -> Callable[[InterruptionRecord], date]:
    """The local day an interruption began; the customers of one outage share a start, so
    each start is converted once."""
    days: dict[datetime, date] = {}

    def day_of(record: InterruptionRecord) -> date:
        day = days.get(record.start)
        if day is None:
            day = days[record.start] = record.start.astimezone(zone).date()
        return day

    return day_of


def _daily_minutes(
    records: Iterable[InterruptionRecord], day_of: Callable[[InterruptionRecord], date]
) -> dict[date, float]:
    """Unplanned sustained customer minutes by the day each interruption began."""
    minutes: dict[date, float] = {}
    for record in records:
        if not record.planned and not record.momentary:
            day = day_of(record)
            minutes[day] = minutes.get(day, 0.0) + record.duration / MINUTE
    return minutes


def _study(
    session: Session,
    *,
    start: Moment,
    end: Moment,
    feeder: str | None,
    region: str | None,
    zone: tzinfo,
    topology: Topology | None,
    as_of: datetime | None,
    monthly: bool = False,
) -> _Study:
    """Everything a report needs, read once: the scope, the records, the Major Event Days
    (with `monthly`, each month's by its own threshold: see `_read_study`)."""
    as_of = as_of or clock.now()
    start, end = period_bounds(start, end, zone=zone, as_of=as_of)
    scope = _scope(session, feeder, region)
    return _read_study(
        session,
        scope,
        start=start,
        end=end,
        zone=zone,
        topology=topology,
        as_of=as_of,
        monthly=monthly,
    )


def _threshold(daily: Mapping[date, float], period_start: date) -> MedThreshold | None:
    """T_MED of a period from the system's daily SAIDI of the five years before it."""
    since = history_start(period_start)
    return med_threshold(value for day, value in daily.items() if since <= day < period_start)


def _months_of(first: date, end: date) -> list[tuple[date, date]]:
    """[first, end) cut at the starts of calendar months."""
    parts, part = [], first
    while part < end:
        following = min(_next_month(part), end)
        parts.append((part, following))
        part = following
    return parts


def _read_study(
    session: Session,
    scope: _Scope,
    *,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    topology: Topology | None,
    as_of: datetime,
    monthly: bool = False,
) -> _Study:
    """The interruptions of [start, end) of `scope`'s customers, and the system's Major
    Event Days of the period: with `monthly`, each calendar month's by its own threshold
    (the five years before it), so a month's days are those of a report of that month."""
    first_day = start.astimezone(zone).date()
    history_from = datetime.combine(history_start(first_day), time(), zone)
    merged = merge_overlaps(
        interruption_records(session, start=history_from, end=end, as_of=as_of, topology=topology)
        + meter_momentaries(session, start=start, end=end)
    )
    day_of = _day_counter(zone)
    system_served = session.scalar(select(func.count(Customer.id))) or 1
    in_period = [r for r in merged if start <= r.start < end]
    history = _daily_minutes((r for r in merged if history_from <= r.start < start), day_of)
    period = _daily_minutes(in_period, day_of)
    daily = {day: minutes / system_served for day, minutes in {**history, **period}.items()}
    end_day = (end - timedelta(microseconds=1)).astimezone(zone).date() + timedelta(days=1)
    parts = _months_of(first_day, end_day) if monthly else [(first_day, end_day)]
    thresholds = [(since, until, _threshold(daily, since)) for since, until in parts]
    threshold = thresholds[0][2] if thresholds else None
    major = [
        day
        for since, until, part_threshold in thresholds
        if part_threshold is not None
        for day in major_event_days(
            {d: v for d, v in daily.items() if since <= d < until and d in period},
            part_threshold.t_med,
        )
    ]
    return _Study(
        scope=scope,
        start=start,
        end=end,
        as_of=as_of,
        zone=zone,
        records=[r for r in in_period if r.customer in scope.accounts],
        threshold=threshold,
        major_event_days=frozenset(major),
        day_of=day_of,
    )


def _narrowed(study: _Study, scope: _Scope) -> _Study:
    """The same study for a part of its customers (the Major Event Days stay the system's)."""
    return replace(
        study, scope=scope, records=[r for r in study.records if r.customer in scope.accounts]
    )


def _indices(
    study: _Study,
    records: Iterable[InterruptionRecord],
    start: datetime,
    end: datetime,
    n: int,
    celid_hours: float,
) -> Indices:
    return compute_indices(
        records,
        customers_served=len(study.scope.accounts),
        period=study.elapsed(start, end),
        n=n,
        celid_limit=celid_hours * HOUR,
    )


def reliability_report(
    session: Session,
    *,
    start: Moment,
    end: Moment,
    feeder: str | None = None,
    region: str | None = None,
    n: int = DEFAULT_CEMI_N,
    celid_hours: float = DEFAULT_CELID_HOURS,
    zone: tzinfo,
    topology: Topology | None = None,
    as_of: datetime | None = None,
) -> ReliabilityReport:
    """Every IEEE 1366 index of [start, end] for the system, one feeder or one region.

    `start` and `end` are days (both included) or instants (`end` excluded); `feeder` is a
    feeder's name or its head breaker's asset_ref, `region` a substation's name.
    `topology` is the live network if the caller holds one (else it is loaded);
    `as_of` is "now", for interruptions still going on.
    """
    study = _study(
        session,
        start=start,
        end=end,
        feeder=feeder,
        region=region,
        zone=zone,
        topology=topology,
        as_of=as_of,
    )

    def indices(records: list[InterruptionRecord]) -> Indices:
        return _indices(study, records, study.start, study.end, n, celid_hours)

    return ReliabilityReport(
        start=study.start,
        end=study.end,
        as_of=study.as_of,
        feeder=study.scope.feeder,
        region=study.scope.region,
        customers_served=len(study.scope.accounts),
        n=n,
        celid_hours=celid_hours,
        threshold=study.threshold,
        major_event_days=sorted(study.major_event_days),
        with_major_events=indices(study.unplanned()),
        without_major_events=indices(study.unplanned(major_events=False)),
        planned=indices(study.planned()),
    )


def daily_saidi(
    session: Session,
    start: date,
    end: date,
    feeder: str | None = None,
    *,
    region: str | None = None,
    zone: tzinfo,
    topology: Topology | None = None,
    as_of: datetime | None = None,
) -> list[DailyValue]:
    """SAIDI and SAIFI of every day from `start` to `end` (both included), unplanned
    interruptions only, each day marked when it is a Major Event Day of the system."""
    study = _study(
        session,
        start=start,
        end=end,
        feeder=feeder,
        region=region,
        zone=zone,
        topology=topology,
        as_of=as_of,
        monthly=True,
    )
    served = len(study.scope.accounts)
    unplanned = study.unplanned()
    minutes = _daily_minutes(unplanned, study.day_of)
    interruptions = Counter(study.day_of(r) for r in unplanned if not r.momentary)
    days = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return [
        DailyValue(
            day=day,
            saidi=minutes.get(day, 0.0) / served,
            saifi=interruptions.get(day, 0) / served,
            major_event=day in study.major_event_days,
        )
        for day in days
    ]


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def monthly_indices(
    session: Session,
    start: date,
    end: date,
    feeder: str | None = None,
    *,
    region: str | None = None,
    n: int = DEFAULT_CEMI_N,
    celid_hours: float = DEFAULT_CELID_HOURS,
    zone: tzinfo,
    topology: Topology | None = None,
    as_of: datetime | None = None,
) -> list[MonthlyIndices]:
    """The unplanned indices of each calendar month from `start` to `end` (both days
    included; the first and last months cut to them), with and without Major Event Days,
    each month's by its own threshold: a month's figures are those of its own report.

    Months that have not begun yet are left out.
    """
    study = _study(
        session,
        start=start,
        end=end,
        feeder=feeder,
        region=region,
        zone=zone,
        topology=topology,
        as_of=as_of,
        monthly=True,
    )
    return _monthly(study, start, end, n, celid_hours)


def _monthly(
    study: _Study, start: date, end: date, n: int, celid_hours: float
) -> list[MonthlyIndices]:
    """The indices of each month of `study` from `start` to `end`; months not begun yet
    are left out."""
    unplanned = study.unplanned()
    planned = study.planned()
    answer = []
    month = start.replace(day=1)
    while month <= end:
        month_start = max(study.start, _instant(month, study.zone))
        month_end = min(study.end, _instant(_next_month(month), study.zone))
        if month_start >= study.as_of:
            break
        records = [r for r in unplanned if month_start <= r.start < month_end]
        without = [r for r in records if study.day_of(r) not in study.major_event_days]
        first_day = month_start.astimezone(study.zone).date()
        end_day = month_end.astimezone(study.zone).date()
        days = tuple(sorted(day for day in study.major_event_days if first_day <= day < end_day))
        answer.append(
            MonthlyIndices(
                month=month,
                with_major_events=_indices(study, records, month_start, month_end, n, celid_hours),
                without_major_events=_indices(
                    study, without, month_start, month_end, n, celid_hours
                ),
                major_event_days=len(days),
                major_event_dates=days,
                planned=_indices(
                    study,
                    [r for r in planned if month_start <= r.start < month_end],
                    month_start,
                    month_end,
                    n,
                    celid_hours,
                ),
            )
        )
        month = _next_month(month)
    return answer


def _regions(session: Session) -> dict[str, frozenset[str]]:
    """Every substation's customers (by their normal feeder), of those that have any."""
    accounts: dict[str, set[str]] = {}
    rows = session.execute(
        select(Substation.name, Customer.account)
        .join(Feeder, Feeder.substation_id == Substation.id)
        .join(Premise, Premise.feeder_id == Feeder.id)
        .join(Customer, Customer.premise_id == Premise.id)
    )
    for name, account in rows:
        accounts.setdefault(name, set()).add(account)
    return {name: frozenset(found) for name, found in sorted(accounts.items())}


def monthly_indices_by_region(
    session: Session,
    start: date,
    end: date,
    *,
    n: int = DEFAULT_CEMI_N,
    celid_hours: float = DEFAULT_CELID_HOURS,
    zone: tzinfo,
    topology: Topology | None = None,
    as_of: datetime | None = None,
) -> RegionalMonths:
    """`monthly_indices` of the system and of every region (substation) with customers,
    from one reading of the interruptions."""
    study = _study(
        session,
        start=start,
        end=end,
        feeder=None,
        region=None,
        zone=zone,
        topology=topology,
        as_of=as_of,
        monthly=True,
    )
    regions = {
        name: _monthly(_narrowed(study, _Scope(None, name, accounts)), start, end, n, celid_hours)
        for name, accounts in _regions(session).items()
    }
    return RegionalMonths(
        system=_monthly(study, start, end, n, celid_hours),
        regions=regions,
        threshold=study.threshold,
    )
