"""Reliability reports: IEEE 1366 indices of a period for the system, a feeder or a region.

Three entry points, each taking a session and plain values:

- `reliability_report`: every index of a period, with and without Major Event Days, and
  planned interruptions apart (`GET /api/v1/reliability`);
- `daily_saidi` and `monthly_indices`: series for charts (the supervisor dashboard);
  `monthly_indices_by_region` the months of the system and of every region at once (the
  published figures, `outage.reliability.transparency`).

Rules the figures follow:

- An interruption is a customer's records of the outages begun before the period's end
  that overlap or touch, merged; it belongs to the period (and to the day) in which it
  began, with its whole duration, and is momentary or not as a whole. Days begin at
  midnight in the zone the caller gives (the `local_timezone` setting). The stored spells
  and the derivation count the same (`outage.reliability.stored`).
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

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from grid_topology.topology import Topology
from outage import clock
from outage.errors import Invalid
from outage.grid.models import Customer, Device, Feeder, Premise, Substation
from outage.reliability.indices import (
    HOUR,
    MICROSECOND,
    MINUTE,
    Indices,
    InterruptionRecord,
    Totals,
    indices_of,
    totals_of,
)
from outage.reliability.med import MedThreshold, history_start, major_event_days, med_threshold
from outage.reliability.stored import (
    Counted,
    Part,
    Scope,
    Unstored,
    daily_us,
    read_snapshot,
    scope_daily,
    stored_totals,
    unstored,
)

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
    served: int
    stored: Scope
    """The same customers, as the stored spells are read."""


@dataclass(frozen=True)
class _Study:
    """What a report of a period in a scope reads: the system's Major Event Days, and the
    interruptions the database cannot count (`outage.reliability.stored`)."""

    scope: _Scope
    start: datetime
    end: datetime
    as_of: datetime
    zone: tzinfo
    live: list[InterruptionRecord]
    """Merged, begun in the period, of the scope's customers with unstored interruptions."""
    leave_out: frozenset[int]
    """Every customer (by id) with unstored interruptions: counted in `live`, not from the
    stored spells."""
    threshold: MedThreshold | None
    major_event_days: frozenset[date]
    day_of: Callable[[InterruptionRecord], date]
    """The local day an interruption began."""

    def part(self, records: Iterable[InterruptionRecord], part: Part) -> list[InterruptionRecord]:
        if part is Part.PLANNED:
            return [r for r in records if r.planned]
        return [
            r
            for r in records
            if not r.planned
            and (part is Part.UNPLANNED or self.day_of(r) not in self.major_event_days)
        ]

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
    count: Select[tuple[int]] = select(func.count(Customer.id))
    stored = Scope()
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
        stored = Scope(feeder_id=found.id)
    elif region is not None:
        substation_id = session.scalar(select(Substation.id).where(Substation.name == region))
        if substation_id is None:
            raise UnknownScope(f"no region (substation) named {region!r}")
        stored = Scope(substation_id=substation_id)
    served = session.scalar(_members(count, stored)) or 0
    if not served:
        raise UnknownScope(f"{feeder or region or 'the system'} serves no customers")
    return _Scope(feeder, region, served, stored)


def _members(query: Select[Any], scope: Scope) -> Select[Any]:
    """`query` of customers narrowed to the scope's."""
    if scope.feeder_id is not None:
        return query.join(Premise, Premise.id == Customer.premise_id).where(
            Premise.feeder_id == scope.feeder_id
        )
    if scope.substation_id is not None:
        return (
            query.join(Premise, Premise.id == Customer.premise_id)
            .join(Feeder, Feeder.id == Premise.feeder_id)
            .where(Feeder.substation_id == scope.substation_id)
        )
    return query


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
    """Everything a report needs, read once: the scope, the unstored interruptions, the
    Major Event Days (with `monthly`, each month's by its own threshold: see `_read_study`)."""
    read_snapshot(session)
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


def _sustained_us(record: InterruptionRecord) -> int:
    """The record's length if the daily SAIDI counts it (unplanned, sustained), else 0."""
    if record.planned or record.momentary:
        return 0
    return record.duration // MICROSECOND


def _daily_saidi(
    session: Session,
    found: Unstored,
    *,
    since: datetime,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    day_of: Callable[[InterruptionRecord], date],
) -> tuple[dict[date, float], set[date]]:
    """The system's daily SAIDI of [since, end) by the day interruptions began, those of
    the period counting alone on the day it starts; and the period's days."""
    served = session.scalar(select(func.count(Customer.id))) or 1
    history = daily_us(session, since=since, end=start, zone=zone)
    period = daily_us(session, since=start, end=end, zone=zone)
    for records, sign in ((found.stored, -1), (found.spells, 1)):
        for record in records:
            part = period if record.start >= start else history
            day = day_of(record)
            part[day] = part.get(day, 0) + sign * _sustained_us(record)
    minutes = MINUTE // MICROSECOND
    daily = {
        day: us / minutes / served
        for day, us in {**history, **{d: u for d, u in period.items() if u}}.items()
        if us
    }
    return daily, {day for day, us in period.items() if us}


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
    """The unstored interruptions of [start, end) of `scope`'s customers, and the system's
    Major Event Days of the period: with `monthly`, each calendar month's by its own
    threshold (the five years before it), so a month's days are those of a report of that
    month."""
    first_day = start.astimezone(zone).date()
    history_from = datetime.combine(history_start(first_day), time(), zone)
    found = unstored(
        session, since=history_from, start=start, end=end, as_of=as_of, topology=topology
    )
    day_of = _day_counter(zone)
    daily, period = _daily_saidi(
        session, found, since=history_from, start=start, end=end, zone=zone, day_of=day_of
    )
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
    in_period = [s for s in found.spells if start <= s.start < end]
    members = _in_scope(session, scope.stored, {s.customer for s in in_period})
    return _Study(
        scope=scope,
        start=start,
        end=end,
        as_of=as_of,
        zone=zone,
        live=[s for s in in_period if s.customer in members],
        leave_out=found.ids,
        threshold=threshold,
        major_event_days=frozenset(major),
        day_of=day_of,
    )


def _in_scope(session: Session, scope: Scope, accounts: Collection[str]) -> frozenset[str]:
    """Those of `accounts` that are the scope's customers now."""
    if not accounts:
        return frozenset()
    query = _members(select(Customer.account), scope).where(Customer.account.in_(accounts))
    return frozenset(session.scalars(query))


def _counted(
    session: Session,
    study: _Study,
    bounds: Sequence[datetime],
    n: int,
    celid_hours: float,
    *,
    regions: Sequence[int] = (),
) -> Counted:
    """What the stored spells of the study count in each window of `bounds`, for its scope
    and each of `regions`."""
    return stored_totals(
        session,
        scope=study.scope.stored,
        bounds=bounds,
        major_event_days=study.major_event_days,
        zone=study.zone,
        n=n,
        celid_limit=celid_hours * HOUR,
        leave_out=study.leave_out,
        regions=regions,
    )


def _indices(
    study: _Study,
    counted: Sequence[Totals] | None,
    live: Iterable[InterruptionRecord],
    part: Part,
    window: tuple[datetime, datetime],
    served: int,
    n: int,
    celid_hours: float,
) -> Indices:
    """The indices of one part of a window: the stored spells' totals and the live ones."""
    start, end = window
    totals = totals_of(
        study.part((r for r in live if start <= r.start < end), part),
        n=n,
        celid_limit=celid_hours * HOUR,
    )
    if counted is not None:
        totals.add(counted[part])
    return indices_of(totals, customers_served=served, period=study.elapsed(start, end))


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
    window = (study.start, study.end)
    counted = _counted(session, study, window, n, celid_hours).get((None, 0))

    def indices(part: Part) -> Indices:
        served = study.scope.served
        return _indices(study, counted, study.live, part, window, served, n, celid_hours)

    return ReliabilityReport(
        start=study.start,
        end=study.end,
        as_of=study.as_of,
        feeder=study.scope.feeder,
        region=study.scope.region,
        customers_served=study.scope.served,
        n=n,
        celid_hours=celid_hours,
        threshold=study.threshold,
        major_event_days=sorted(study.major_event_days),
        with_major_events=indices(Part.UNPLANNED),
        without_major_events=indices(Part.WITHOUT_MAJOR_EVENTS),
        planned=indices(Part.PLANNED),
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
    served = study.scope.served
    by_day = scope_daily(
        session,
        scope=study.scope.stored,
        start=study.start,
        end=study.end,
        zone=zone,
        leave_out=study.leave_out,
    )
    for record in study.part(study.live, Part.UNPLANNED):
        if not record.momentary:
            us, count = by_day.get(study.day_of(record), (0, 0))
            by_day[study.day_of(record)] = (us + record.duration // MICROSECOND, count + 1)
    minute = MINUTE // MICROSECOND
    days = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return [
        DailyValue(
            day=day,
            saidi=by_day.get(day, (0, 0))[0] / minute / served,
            saifi=by_day.get(day, (0, 0))[1] / served,
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
    months = _months(study, start, end)
    counted = _counted(session, study, _bounds(months), n, celid_hours) if months else {}
    return _monthly(study, months, counted, None, study.live, study.scope.served, n, celid_hours)


def _months(study: _Study, start: date, end: date) -> list[tuple[date, datetime, datetime]]:
    """Each month from `start` to `end` that has begun, with its window in the study."""
    months = []
    month = start.replace(day=1)
    while month <= end:
        month_start = max(study.start, _instant(month, study.zone))
        month_end = min(study.end, _instant(_next_month(month), study.zone))
        if month_start >= study.as_of:
            break
        months.append((month, month_start, month_end))
        month = _next_month(month)
    return months


def _bounds(months: Sequence[tuple[date, datetime, datetime]]) -> list[datetime]:
    return [months[0][1], *(month_end for _, _, month_end in months)]


def _monthly(
    study: _Study,
    months: Sequence[tuple[date, datetime, datetime]],
    counted: Counted,
    region: int | None,
    live: Sequence[InterruptionRecord],
    served: int,
    n: int,
    celid_hours: float,
) -> list[MonthlyIndices]:
    """The indices of each month of `study` for the customers `counted` (by `region`) and
    `live` hold."""
    answer = []
    for index, (month, month_start, month_end) in enumerate(months):
        first_day = month_start.astimezone(study.zone).date()
        end_day = month_end.astimezone(study.zone).date()
        days = tuple(sorted(day for day in study.major_event_days if first_day <= day < end_day))
        found = counted.get((region, index))
        parts = {
            part: _indices(
                study, found, live, part, (month_start, month_end), served, n, celid_hours
            )
            for part in Part
        }
        answer.append(
            MonthlyIndices(
                month=month,
                with_major_events=parts[Part.UNPLANNED],
                without_major_events=parts[Part.WITHOUT_MAJOR_EVENTS],
                major_event_days=len(days),
                major_event_dates=days,
                planned=parts[Part.PLANNED],
            )
        )
    return answer


@dataclass(frozen=True)
class _Region:
    id: int
    served: int


def _regions(session: Session) -> dict[str, _Region]:
    """Every substation with customers (by their normal feeder), with how many."""
    rows = session.execute(
        select(Substation.name, Substation.id, func.count(Customer.id))
        .join(Feeder, Feeder.substation_id == Substation.id)
        .join(Premise, Premise.feeder_id == Feeder.id)
        .join(Customer, Customer.premise_id == Premise.id)
        .group_by(Substation.name, Substation.id)
        .order_by(Substation.name)
    )
    return {name: _Region(region_id, served) for name, region_id, served in rows.tuples()}


def _regions_of(session: Session, accounts: Collection[str]) -> dict[str, int]:
    """The region (substation) of each of these customers, by their normal feeder now."""
    if not accounts:
        return {}
    rows = session.execute(
        select(Customer.account, Feeder.substation_id)
        .join(Premise, Premise.id == Customer.premise_id)
        .join(Feeder, Feeder.id == Premise.feeder_id)
        .where(Customer.account.in_(accounts))
    )
    return dict(rows.tuples().all())


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
    months = _months(study, start, end)
    found = _regions(session)
    region_ids = [region.id for region in found.values()]
    counted = (
        _counted(session, study, _bounds(months), n, celid_hours, regions=region_ids)
        if months
        else {}
    )
    region_of = _regions_of(session, {r.customer for r in study.live})
    regions = {
        name: _monthly(
            study,
            months,
            counted,
            region.id,
            [r for r in study.live if region_of.get(r.customer) == region.id],
            region.served,
            n,
            celid_hours,
        )
        for name, region in found.items()
    }
    return RegionalMonths(
        system=_monthly(
            study, months, counted, None, study.live, study.scope.served, n, celid_hours
        ),
        regions=regions,
        threshold=study.threshold,
    )
