"""Reading the stored interruptions: what a report counts from the stored spells, and what
it counts itself.

Where the stored path and the derivation meet: an interruption is a customer's records
of the outages begun before the report's end that overlap or touch, merged; it belongs
to the period (and day) in which it began, with its whole duration, and whether it was
momentary is decided on it, merged, and counted per event within the part and window
counted. The stored spells merge every record, so a spell reaching past the report's
end may hold a record of an outage begun after it: its customer is counted here instead.

The stored spells (`outage.incidents.recorded`) hold every finished interruption of an
outage; what they cannot hold yet (customers still out, planned outages, the momentary
interruptions meters told of, outages restored before the upgrade the backfill has not
reached, customers whose spells the spells job has not written again) is derived or read
from the records for the report (`Unstored`). Such a customer is counted here, from their
stored records and the derived ones merged again, and left out of what is counted from
the spells: customers counted apart add up.

The spells of a period are read by binary COPY and counted in arrays
(`outage.reliability.counting`): grouping them by customer in the database takes seconds
for a million customers' five years. A short period's are read as rows of narrow integer
columns, through the index of their start; a long period's, which are most of those
stored, from each customer's spells packed into one row (`InterruptionSpellPack`), sent
end to end in one value and cut up by numpy: sending a row costs the database far more
than its bytes do.

A report reads in one snapshot (`read_snapshot`): the customers due, their spells, the
totals and the COPY are several statements, and each could otherwise see another commit
of the spells job, which moves a customer from due to written: counted twice, or not at
all.
"""

import io
import struct
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import IntEnum
from typing import Any

import numpy as np
from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.models import Customer
from outage.incidents.lifecycle import MOMENTARY_LIMIT
from outage.incidents.models import Interruption, InterruptionSpell, SpellsDue
from outage.incidents.recorded import PACKED_SPELL, customer_ids, stored_records, stored_spells
from outage.reliability.counting import Spells, count, part_masks
from outage.reliability.indices import MICROSECOND, InterruptionRecord, Totals, merge_overlaps
from outage.reliability.meters import meter_momentaries
from outage.reliability.records import unstored_records


class Part(IntEnum):
    """The three sets of interruptions a report counts."""

    UNPLANNED = 0
    WITHOUT_MAJOR_EVENTS = 1
    PLANNED = 2


@dataclass(frozen=True)
class Scope:
    """The customers a report covers, as a condition on the spells' customers."""

    feeder_id: int | None = None
    substation_id: int | None = None

    def condition(self) -> str:
        if self.feeder_id is not None:
            return (
                " AND s.customer_id IN (SELECT c.id FROM customers c JOIN premises p"
                " ON p.id = c.premise_id WHERE p.feeder_id = %(feeder_id)s)"
            )
        if self.substation_id is not None:
            return (
                " AND s.customer_id IN (SELECT c.id FROM customers c JOIN premises p"
                " ON p.id = c.premise_id JOIN feeders f ON f.id = p.feeder_id"
                " WHERE f.substation_id = %(substation_id)s)"
            )
        return ""

    def params(self) -> dict[str, int]:
        if self.feeder_id is not None:
            return {"feeder_id": self.feeder_id}
        if self.substation_id is not None:
            return {"substation_id": self.substation_id}
        return {}


def zone_name(zone: tzinfo) -> str:
    """The zone as PostgreSQL names it: an IANA key, or UTC."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    if zone.utcoffset(None) == timedelta(0):
        return "UTC"
    raise ValueError(f"a report's time zone must be an IANA zone, not {zone}")


@dataclass(frozen=True)
class Unstored:
    """The customers the report counts itself, not from the stored spells."""

    accounts: frozenset[str]
    ids: frozenset[int]
    """The same customers' ids, as the spells name them."""
    spells: list[InterruptionRecord]
    """Their interruptions, stored and derived merged, begun in the window read."""
    stored: list[InterruptionRecord]
    """Their stored spells begun in the window read: what the database's totals hold."""


def read_snapshot(session: Session) -> None:
    """Begin the session's transaction as one REPEATABLE READ READ ONLY snapshot, before
    anything else reads in it: what the report reads then holds together. A transaction
    begun already is kept as it is (isolation cannot change in it): a caller that wrote
    counts its own writes."""
    if _driver(session).info.transaction_status == TRANSACTION_STATUS_IDLE:
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


def _due(session: Session) -> set[int]:
    return set(session.scalars(select(SpellsDue.customer_id).distinct()))


def _past_the_end(session: Session, since: datetime, end: datetime) -> set[int]:
    """Customers whose spell begun in [since, end) reaches `end` (`"end" >= end`), so it may
    hold records of outages begun after it: their spells are merged again here."""
    return set(
        session.scalars(
            select(InterruptionSpell.customer_id).where(
                InterruptionSpell.start >= since,
                InterruptionSpell.start < end,
                InterruptionSpell.end >= end,
            )
        )
    )


def unstored(
    session: Session,
    *,
    since: datetime,
    start: datetime,
    end: datetime,
    as_of: datetime,
    topology: Topology | None,
) -> Unstored:
    """Customers out under outages still on, not stored yet or planned in [since, end),
    with a momentary interruption meters told of in [start, end), due for their spells,
    or with a spell reaching `end`; and their spells."""
    derived = unstored_records(
        session, start=since, end=end, as_of=as_of, topology=topology
    ) + meter_momentaries(session, start=start, end=end)
    ids = set(customer_ids(session, {r.customer for r in derived}).values())
    ids |= _due(session) | _past_the_end(session, since, end)
    if not ids and not derived:
        return Unstored(frozenset(), frozenset(), [], [])
    chosen = sorted(ids)
    accounts = frozenset(r.customer for r in derived) | frozenset(
        session.scalars(select(Customer.account).where(Customer.id.in_(chosen)))
    )
    kept = stored_records(
        session,
        Interruption.customer_id.in_(chosen),
        Interruption.end >= since,
        Interruption.incident_start < end,
    )
    stored = stored_spells(
        session,
        InterruptionSpell.customer_id.in_(chosen),
        InterruptionSpell.start >= since,
        InterruptionSpell.start < end,
    )
    spells = [s for s in merge_overlaps(kept + derived) if since <= s.start < end]
    return Unstored(accounts, frozenset(ids), spells, stored)


def daily_us(session: Session, *, since: datetime, end: datetime, zone: tzinfo) -> dict[date, int]:
    """The system's unplanned sustained customer microseconds of the stored spells, by the
    local day they began in [since, end)."""
    rows = session.execute(
        text(
            "SELECT (began_at AT TIME ZONE :zone)::date, sum(customer_us)"
            " FROM interruption_totals WHERE began_at >= :since AND began_at < :end GROUP BY 1"
        ),
        {"zone": zone_name(zone), "since": since, "end": end},
    )
    return {day: int(us) for day, us in rows.tuples()}


def scope_daily(
    session: Session,
    *,
    scope: Scope,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    leave_out: Collection[int],
) -> dict[date, tuple[int, int]]:
    """The scope's unplanned sustained customer microseconds and interruptions of the
    stored spells, by the local day they began in [start, end)."""
    sql = (
        "SELECT (s.start AT TIME ZONE %(zone)s)::date,"
        " sum((date_part('epoch', s.\"end\" - s.start) * 1000000)::bigint), count(*)"
        " FROM interruption_spells s WHERE s.start >= %(start)s AND s.start < %(end)s"
        ' AND NOT s.planned AND s."end" - s.start > %(momentary)s'
        " AND NOT s.customer_id = ANY(%(leave_out)s)"
        f"{scope.condition()} GROUP BY 1"
    )
    cursor = _cursor(session)
    cursor.execute(
        sql,
        {
            "zone": zone_name(zone),
            "start": start,
            "end": end,
            "momentary": MOMENTARY_LIMIT,
            "leave_out": sorted(leave_out),
            **scope.params(),
        },
    )
    return {day: (int(us), int(n)) for day, us, n in cursor.fetchall()}


def _driver(session: Session) -> Any:
    """The psycopg2 connection under the session's."""
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a live connection, inside the session's transaction
    return driver


def _cursor(session: Session) -> Any:
    """A psycopg2 cursor on the session's connection, in its transaction."""
    return _driver(session).cursor()


_COLUMNS = (
    ("customer", "s.customer_id", ">i4"),
    ("start", "s.start", ">i8"),
    ("end", 's."end"', ">i8"),
    ("event", "s.incident_id", ">i4"),
    ("planned", "s.planned", "?"),
)
"""Stored columns only, so the database sends them as they are: a timestamp in binary
COPY is microseconds since 2000-01-01 UTC, and days and windows are found in numpy."""
_REGION = ("region", "coalesce(f.substation_id, -1)", ">i4")
_WITH_REGION = (
    " JOIN customers c ON c.id = s.customer_id JOIN premises p ON p.id = c.premise_id"
    " LEFT JOIN feeders f ON f.id = p.feeder_id"
)
_HEADER = 19
"""A binary COPY's signature, flags and header extension; a 2-byte trailer ends it."""
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PACKED_SHARE = 3
"""A period holding more than one in this many of the stored spells is read from the
packed rows, which hold every spell of every period: read and cut up, a packed spell costs
about a third of a spell sent as a row of its own (300,000 customers: their ten years
packed in 0.7 s, five of them as rows in 0.87 s, on a loaded machine)."""


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // MICROSECOND


def _check_widths(rows: np.ndarray, length: int) -> None:
    """Refuse a binary COPY parsed as `rows`, of `length` bytes of rows, whose rows do
    not have the layout its dtype assumes: each row's field count, then a size before
    each field equal to the field's width (-1 for a NULL). A column whose type changed
    would otherwise be misread silently, every row from the first shifted."""
    sizes = [name for name in rows.dtype.names or () if name.endswith("_size")]
    if not np.all(rows["fields"] == len(sizes)):
        found = np.unique(rows["fields"]).tolist()
        raise RuntimeError(f"the COPY's rows have {found} fields, not {len(sizes)}")
    for size in sizes:
        field = size.removesuffix("_size")
        width = rows.dtype[field].itemsize
        if not np.all(rows[size] == width):
            found = np.unique(rows[size]).tolist()
            raise RuntimeError(
                f"the COPY's field {field} has {found} bytes (-1: NULL), not {width}"
            )
    if rows.nbytes != length:
        raise RuntimeError(f"the COPY's {length} bytes are no whole {rows.itemsize}-byte rows")


@dataclass(frozen=True)
class Read:
    spells: Spells
    """Grouped by window (the `bounds` they began in), days counted from the first day."""
    region: np.ndarray
    """Each spell's customer's region (-1 for none), when read by region."""


@dataclass(frozen=True)
class _Columns:
    """Spells as the database sent them (big-endian), one row a spell."""

    customer: np.ndarray
    start: np.ndarray
    end: np.ndarray
    event: np.ndarray
    planned: np.ndarray
    region: np.ndarray | None


def _reads_packed(session: Session, since: datetime, end: datetime) -> bool:
    """Whether [since, end) holds enough of the stored spells for the packed rows to pay,
    by the system's totals (its unplanned sustained spells) as a sample."""
    period, stored = session.execute(
        text(
            "SELECT coalesce(sum(interruptions) FILTER"
            " (WHERE began_at >= :since AND began_at < :end), 0), coalesce(sum(interruptions), 0)"
            " FROM interruption_totals"
        ),
        {"since": since, "end": end},
    ).one()
    return bool(period * PACKED_SHARE > stored)


def read_spells(
    session: Session,
    *,
    scope: Scope,
    bounds: Sequence[datetime],
    days: Sequence[datetime],
    leave_out: Collection[int] = (),
    by_region: bool = False,
    packed: bool | None = None,
) -> Read:
    """The stored spells begun in [bounds[0], bounds[-1]) of the scope's customers but
    those `leave_out` names; `days` are the starts of the days they are counted by (and
    the end of the last). `packed`: read the packed rows, or the spells' own (None:
    whichever pays)."""
    if packed is None:
        packed = _reads_packed(session, bounds[0], bounds[-1])
    parts = (
        _packed_columns(session, scope, by_region)
        if packed
        else _row_columns(session, scope, bounds[0], bounds[-1], by_region)
    )
    lo, hi = _us(bounds[0]), _us(bounds[-1])
    kept = [_kept(part, lo, hi, leave_out) for part in parts]

    def column(name: str, kind: type = np.int64) -> np.ndarray:
        chosen = [getattr(part, name)[mask] for part, mask in zip(parts, kept, strict=True)]
        return np.concatenate(chosen).astype(kind, copy=False)

    start = column("start")
    edges = np.array([_us(moment) for moment in bounds], dtype=np.int64)
    day_edges = np.array([_us(moment) for moment in days], dtype=np.int64)
    spells = Spells(
        customer=column("customer"),
        group=(
            np.searchsorted(edges, start, side="right") - 1
            if len(bounds) > 2
            else np.zeros(start.size, dtype=np.int64)
        ),
        day=_day_of(start, day_edges),
        us=column("end") - start,
        event=column("event"),
        planned=column("planned", np.bool_),
    )
    return Read(spells, column("region") if by_region else np.zeros(0, np.int64))


def _kept(columns: _Columns, lo: int, hi: int, leave_out: Collection[int]) -> np.ndarray:
    """The spells begun in [lo, hi) (microseconds) of customers not left out."""
    start = columns.start
    kept: np.ndarray = (start >= lo) & (start < hi)
    if leave_out and columns.customer.size:
        customer = columns.customer
        excluded = np.zeros(max(int(customer.max()), max(leave_out)) + 1, dtype=bool)
        excluded[np.fromiter(leave_out, dtype=np.int64, count=len(leave_out))] = True
        kept &= ~excluded[customer]
    return kept


def _row_columns(
    session: Session, scope: Scope, since: datetime, end: datetime, by_region: bool
) -> list[_Columns]:
    """The spells begun in [since, end), one row each."""
    columns = _COLUMNS + ((_REGION,) if by_region else ())
    select_sql = (
        f"SELECT {', '.join(sql for _, sql, _ in columns)} FROM interruption_spells s"
        f"{_WITH_REGION if by_region else ''}"
        f" WHERE s.start >= %(lo)s AND s.start < %(hi)s{scope.condition()}"
    )
    fields: list[tuple[str, str]] = [("fields", ">i2")]
    for name, _, kind in columns:
        fields += [(f"{name}_size", ">i4"), (name, kind)]
    row = np.dtype(fields)
    found = []
    for data in _copy(session, select_sql, {"lo": since, "hi": end, **scope.params()}):
        length = len(data) - _HEADER - 2
        rows = np.frombuffer(data, dtype=row, offset=_HEADER, count=length // row.itemsize)
        _check_widths(rows, length)
        found.append(
            _Columns(
                customer=rows["customer"],
                start=rows["start"],
                end=rows["end"],
                event=rows["event"],
                planned=rows["planned"],
                region=rows["region"] if by_region else None,
            )
        )
    return found


def _packed_columns(session: Session, scope: Scope, by_region: bool) -> list[_Columns]:
    """Every stored spell of the scope's customers, from their packed rows: each part of
    the customers in one row of two values, their packed rows end to end and, for each
    customer in the same order (one aggregate's rows are every aggregate's), the customer,
    how many spells and (`by_region`) the region. A value holds 1 GB at most: fifty
    million spells, each part."""
    head = f"int4send(s.customer_id) || int4send(length(s.spells) / {PACKED_SPELL.itemsize})"
    if by_region:
        head += f" || int4send({_REGION[1]})"
    select_sql = (
        f"SELECT string_agg(s.spells, ''::bytea), string_agg({head}, ''::bytea)"
        f" FROM interruption_spell_packs s{_WITH_REGION if by_region else ''}"
        f" WHERE TRUE{scope.condition()}"
    )
    heads = np.dtype(
        [("customer", ">i4"), ("count", ">i4")] + ([("region", ">i4")] if by_region else [])
    )
    found = []
    for data in _copy(session, select_sql, scope.params()):
        packs, header = _values(data)
        spells = np.frombuffer(packs, dtype=PACKED_SPELL)
        owners = np.frombuffer(header, dtype=heads)
        counts = owners["count"].astype(np.int64)
        if counts.sum() != spells.size:
            raise RuntimeError(f"the packed rows hold {spells.size} spells, not {counts.sum()}")
        found.append(
            _Columns(
                customer=np.repeat(owners["customer"].astype(np.int64), counts),
                start=spells["start"],
                end=spells["end"],
                event=spells["event"],
                planned=spells["planned"],
                region=np.repeat(owners["region"], counts) if by_region else None,
            )
        )
    return found


def _values(data: bytes) -> list[memoryview]:
    """The values of the one row of a binary COPY (a NULL as empty)."""
    view = memoryview(data)
    (fields,) = struct.unpack_from(">h", data, _HEADER)
    found: list[memoryview] = []
    at = _HEADER + 2
    for _ in range(fields):
        (size,) = struct.unpack_from(">i", data, at)
        at += 4
        found.append(view[at : at + max(size, 0)])
        at += max(size, 0)
    return found


_DAY_US = timedelta(days=1) // MICROSECOND


def _day_of(start: np.ndarray, day_edges: np.ndarray) -> np.ndarray:
    """The day each start falls in: by division when every day of the period is 24 hours
    long (no change of clocks in the zone), else by a search of the days' edges."""
    days: np.ndarray
    if np.all(np.diff(day_edges) == _DAY_US):
        days = (start - day_edges[0]) // _DAY_US
    else:
        days = np.searchsorted(day_edges, start, side="right") - 1
    return days


def _copy(session: Session, select_sql: str, params: dict[str, Any]) -> list[bytes]:
    """The rows of `select_sql` by binary COPY. Sending rows is what takes the time, on the
    database's side, so a session reading one snapshot that has written nothing (a
    report's, `read_snapshot`) reads half the customers on a second connection of its own,
    in the same snapshot, at the same time, on another core. `select_sql` ends in its
    WHERE clause, which the halves narrow."""
    cursor = _cursor(session)
    cursor.execute(
        "SELECT txid_current_if_assigned() IS NULL"
        " AND current_setting('transaction_isolation') = 'repeatable read'"
    )
    if not cursor.fetchone()[0]:
        return [_copy_out(cursor, cursor.mogrify(select_sql, params).decode())]
    cursor.execute("SELECT pg_export_snapshot()")
    snapshot = cursor.fetchone()[0]
    halves = [
        cursor.mogrify(f"{select_sql} AND s.customer_id %% 2 = {half}", params).decode()
        for half in (0, 1)
    ]
    engine = session.get_bind().engine
    args, options = engine.dialect.create_connect_args(engine.url)
    other = engine.dialect.connect(*args, **options)  # not the pool's: it could be empty
    try:
        helper = other.cursor()
        helper.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        helper.execute("SET TRANSACTION SNAPSHOT %s", (snapshot,))
        helper.execute("SET LOCAL jit = off")  # not the pool's: without the service's setting
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(_copy_out, helper, halves[1])
            first = _copy_out(cursor, halves[0])
            return [first, second.result()]
    finally:
        other.close()


def _copy_out(cursor: Any, query: str) -> bytes:
    buffer = io.BytesIO()
    cursor.copy_expert(f"COPY ({query}) TO STDOUT (FORMAT binary)", buffer)
    return buffer.getvalue()


Counted = Mapping[tuple[int | None, int], Sequence[Totals]]
"""(region or None for the whole scope, window) -> the totals of each `Part`."""


def _major_mask(days: Collection[date], first_day: date, length: int) -> np.ndarray:
    mask = np.zeros(max(length, 1), dtype=bool)
    for day in days:
        index = (day - first_day).days
        if 0 <= index < length:
            mask[index] = True
    return mask


def stored_totals(
    session: Session,
    *,
    scope: Scope,
    bounds: Sequence[datetime],
    major_event_days: Collection[date],
    zone: tzinfo,
    n: int,
    celid_limit: timedelta,
    leave_out: Collection[int],
    regions: Sequence[int] = (),
) -> Counted:
    """The totals of the stored spells begun in each window [bounds[i], bounds[i + 1]),
    of the scope's customers but those `leave_out` names, for the scope and for each of
    `regions` (substation ids)."""
    first_day = bounds[0].astimezone(zone).date()
    last_day = (bounds[-1] - MICROSECOND).astimezone(zone).date()
    length = (last_day - first_day).days + 1
    days = [
        datetime.combine(first_day + timedelta(days=i), time(), zone) for i in range(length + 1)
    ]
    read = read_spells(
        session,
        scope=scope,
        bounds=bounds,
        days=days,
        leave_out=leave_out,
        by_region=bool(regions),
    )
    windows = len(bounds) - 1
    mask = _major_mask(major_event_days, first_day, length)
    found: dict[tuple[int | None, int], list[Totals]] = {}
    _count_into(found, None, read.spells, windows, mask, n, celid_limit)
    if regions:
        _count_regions(found, read.spells, read.region, regions, windows, mask, n, celid_limit)
    return found


def _count_regions(
    found: dict[tuple[int | None, int], list[Totals]],
    spells: Spells,
    region_of: np.ndarray,
    regions: Sequence[int],
    windows: int,
    major: np.ndarray,
    n: int,
    celid_limit: timedelta,
) -> None:
    """Each region's totals of each window, into `found` under (region, window)."""
    lookup = np.full(max(max(regions), 0) + 2, -1, dtype=np.int64)
    for i, region in enumerate(regions):
        lookup[region] = i
    position = np.where(region_of >= 0, lookup[np.clip(region_of, 0, lookup.size - 1)], -1)
    known = position >= 0
    by_region = Spells(
        customer=spells.customer[known],
        group=position[known] * windows + spells.group[known],
        day=spells.day[known],
        us=spells.us[known],
        event=spells.event[known],
        planned=spells.planned[known],
    )
    grouped: dict[tuple[int | None, int], list[Totals]] = {}
    _count_into(grouped, 0, by_region, windows * len(regions), major, n, celid_limit)
    for (_, group), parts in grouped.items():
        found[(regions[group // windows], group % windows)] = parts


def _count_into(
    found: dict[tuple[int | None, int], list[Totals]],
    key: int | None,
    spells: Spells,
    groups: int,
    major: np.ndarray,
    n: int,
    celid_limit: timedelta,
) -> None:
    """Each group's totals of every part, into `found` under (`key`, group)."""
    parts = count(spells, part_masks(spells, major), groups=groups, n=n, celid_limit=celid_limit)
    for group in range(groups):
        found[(key, group)] = [parts[part][group] for part in Part]
