"""A report counted from the stored spells equals one derived from the trail, whatever is
stored yet: customers still due for their spells, spells written, incidents restored
before the upgrade (not stored, then backfilled); for periods that begin and end inside
interruptions, with outages nested across the boundaries."""

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Feeder, Substation
from outage.incidents.changes import open_nested
from outage.incidents.models import (
    Incident,
    Interruption,
    InterruptionSpell,
    RecordedIncident,
    SpellsDue,
)
from outage.incidents.recorded import backfill, fold, pack
from outage.reliability import service, stored
from outage.reliability.indices import HOUR, Indices, compute_indices, merge_overlaps
from outage.reliability.med import history_start
from outage.reliability.records import interruption_records
from outage.reliability.stored import Read, Scope, read_snapshot, read_spells

from .conftest import SERVED, grid_database, outage, restore

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
AS_OF = datetime(2025, 5, 2, tzinfo=ZONE)


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 5, 1, hour, minute, tzinfo=ZONE)


def outages(session: Session) -> None:
    """F1 out 08:00-10:00; F1's B1-B3 out under a nested outage from 08:30 to 10:30; A1-A4
    out again from 09:30 to 11:00 (overlapping the first); C1-C3 out for 3 minutes at
    08:50, then for an hour from 09:10."""
    feeder = outage(session, "BR-1", local(8))
    nested = open_nested(
        session, feeder, device_asset_ref="FU-B", confidence=1.0, customers_affected=3, reason="t"
    )
    restore(session, feeder, local(10))
    restore(session, nested, local(10, 30))
    later = outage(session, "FU-A", local(9, 30))
    restore(session, later, local(11))
    blink = outage(session, "BR-2", local(8, 50))
    restore(session, blink, local(8, 53))
    second = outage(session, "BR-2", local(9, 10))
    restore(session, second, local(10, 10))


def derived(
    session: Session, start: datetime, end: datetime, zone: ZoneInfo = ZONE
) -> tuple[Indices, Indices]:
    """The unplanned and planned indices of [start, end), derived from the trail."""
    since = datetime.combine(history_start(start.astimezone(zone).date()), time(), zone)
    merged = merge_overlaps(interruption_records(session, start=since, end=end, as_of=AS_OF))
    period = [r for r in merged if start <= r.start < end]

    def indices(planned: bool) -> Indices:
        return compute_indices(
            [r for r in period if r.planned == planned],
            customers_served=SERVED,
            period=min(end, AS_OF) - start,
            n=0,
            celid_limit=1.5 * HOUR,
        )

    return indices(False), indices(True)


def reported(
    session: Session, start: datetime, end: datetime, zone: ZoneInfo = ZONE
) -> tuple[Indices, Indices]:
    report = service.reliability_report(
        session, start=start, end=end, n=0, celid_hours=1.5, zone=zone, as_of=AS_OF
    )
    return report.with_major_events, report.planned


def forget_then_backfill(session: Session) -> None:
    for table in (Interruption, RecordedIncident, SpellsDue):
        session.execute(delete(table))
    while backfill(session, None):
        pass


STATES: dict[str, Callable[[Session], object]] = {
    "due": lambda session: None,
    "spells written": fold,
    "not stored yet": lambda session: [
        session.execute(delete(table)) for table in (Interruption, RecordedIncident, SpellsDue)
    ],
    "backfilled": lambda session: (forget_then_backfill(session), fold(session)),
}
PERIODS = {
    "ends inside spells, before an overlapping outage": (local(7), local(9)),
    "begins inside spells": (local(8, 15), local(12)),
    "begins and ends inside spells": (local(8, 40), local(9, 20)),
    "holds every outage": (local(7), local(12)),
}


READERS = {"the spells' rows": 0, "the packed rows": 10**9}
"""`stored.PACKED_SHARE` making a report read each (the packed rows once anything is
stored)."""


@pytest.fixture(params=READERS)
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(stored, "PACKED_SHARE", READERS[request.param])
    return str(request.param)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.usefixtures("reader")
def test_the_report_equals_the_derivation(session: Session, state: str, period: str) -> None:
    outages(session)
    STATES[state](session)
    start, end = PERIODS[period]
    assert reported(session, start, end) == derived(session, start, end)


def test_a_spell_past_the_end_counts_only_the_outages_begun_before_it(session: Session) -> None:
    outages(session)
    fold(session)
    unplanned, _ = reported(session, local(7), local(9))
    # F1's seven out from 08:00 until 10:00, B1-B3 until 10:30 (nested); A1-A4's outage
    # from 09:30 began after the end: C1-C3's blink is momentary
    assert unplanned.customer_minutes == 4 * 120 + 3 * 150
    assert unplanned.momentary_events == 3


def test_a_period_begun_inside_a_spell_leaves_the_outages_nested_in_it_out(
    session: Session,
) -> None:
    outages(session)
    fold(session)
    unplanned, _ = reported(session, local(8, 15), local(12))
    assert unplanned.customer_minutes == 3 * 60  # C1-C3 from 09:10 only
    assert unplanned.customers_interrupted == 3
    assert unplanned.customer_interruptions == 3


@pytest.fixture(scope="module")
def committed(database_url: str) -> Iterator[sessionmaker[Session]]:
    """The outages committed and their spells written, on a database of their own."""
    with grid_database(database_url) as url:
        sessions = session_factory(url)
        with session_scope(sessions) as session:
            outages(session)
        with session_scope(sessions) as session:
            fold(session)
        yield sessions


@pytest.mark.parametrize("period", PERIODS)
def test_a_report_that_wrote_nothing_reads_half_the_customers_on_a_second_connection(
    committed: sessionmaker[Session], period: str
) -> None:
    start, end = PERIODS[period]
    with session_scope(committed) as session:
        assert reported(session, start, end) == derived(session, start, end)


def test_a_report_reads_in_one_repeatable_read_snapshot(
    committed: sessionmaker[Session],
) -> None:
    with session_scope(committed) as session:
        reported(session, local(8), local(12))
        assert session.scalar(text("SHOW transaction_isolation")) == "repeatable read"
        assert session.scalar(text("SHOW transaction_read_only")) == "on"


@pytest.mark.parametrize("packed", [False, True])
def test_both_connections_of_a_report_read_its_snapshot(
    committed: sessionmaker[Session], packed: bool
) -> None:
    later = [datetime(2030, 1, 1, tzinfo=ZONE), datetime(2030, 1, 2, tzinfo=ZONE)]
    with session_scope(committed) as session:
        read_snapshot(session)
        session.scalar(select(func.count(Customer.id)))  # the snapshot is taken
        with session_scope(committed) as writer:
            incident = writer.scalar(select(func.min(Incident.id)))
            customers = list(writer.scalars(select(Customer.id).order_by(Customer.id).limit(2)))
            writer.execute(
                insert(InterruptionSpell),
                [
                    {
                        "customer_id": customer,
                        "start": later[0],
                        "end": later[1],
                        "incident_id": incident,
                        "planned": False,
                    }
                    for customer in customers
                ],
            )
            pack(writer, customers)
        try:
            read = read_spells(session, scope=Scope(), bounds=later, days=later, packed=packed)
            assert read.spells.customer.size == 0
        finally:
            with session_scope(committed) as writer:
                writer.execute(delete(InterruptionSpell).where(InterruptionSpell.start >= later[0]))
                pack(writer, customers)


def spell_rows(read: Read) -> list[tuple[int, ...]]:
    """The spells read, one tuple a spell with its region, in order."""
    spells = read.spells
    columns = (spells.customer, spells.group, spells.day, spells.us, spells.event)
    return sorted(
        zip(
            *(column.tolist() for column in columns),
            spells.planned.tolist(),
            read.region.tolist(),
            strict=True,
        )
    )


def read_both_ways(
    session: Session, scope: Scope, start: datetime, end: datetime, left_out: int
) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """[start, end) in two windows, by region, read from the spells' rows and the packed."""
    midnight = datetime.combine(start.date(), time(), ZONE)

    def read(packed: bool) -> list[tuple[int, ...]]:
        return spell_rows(
            read_spells(
                session,
                scope=scope,
                bounds=[start, start + (end - start) / 2, end],
                days=[midnight, midnight + timedelta(days=1)],
                leave_out={left_out},
                by_region=True,
                packed=packed,
            )
        )

    return read(packed=False), read(packed=True)


SCOPES = {"the system": {}, "a feeder": {"feeder": "F1"}, "a region": {"region": "TBA Beta"}}


@pytest.mark.parametrize("scope", SCOPES)
def test_the_packed_rows_read_as_the_spells_rows_do(
    committed: sessionmaker[Session], scope: str
) -> None:
    with session_scope(committed) as session:
        read_snapshot(session)
        named = SCOPES[scope]
        feeder = session.scalar(select(Feeder.id).where(Feeder.name == named.get("feeder")))
        region = session.scalar(select(Substation.id).where(Substation.name == named.get("region")))
        left_out = session.scalar(select(Customer.id).where(Customer.account == "A1"))
        assert left_out is not None
        found = 0
        for start, end in PERIODS.values():
            rows, packed = read_both_ways(
                session, Scope(feeder_id=feeder, substation_id=region), start, end, left_out
            )
            assert packed == rows
            found += len(rows)
        assert found > 5


def test_a_report_in_a_zone_that_changes_its_clocks_counts_the_same(
    committed: sessionmaker[Session],
) -> None:
    paris = ZoneInfo("Europe/Paris")  # summer time began on 30 March 2025
    start, end = datetime(2025, 3, 1, tzinfo=paris), datetime(2025, 5, 2, tzinfo=paris)
    with session_scope(committed) as session:
        assert reported(session, start, end, paris) == derived(session, start, end, paris)


def test_the_months_of_every_region_from_the_spells_equal_those_derived(
    committed: sessionmaker[Session],
) -> None:
    months = {"start": date(2025, 4, 1), "end": date(2025, 5, 1), "zone": ZONE, "as_of": AS_OF}
    with session_scope(committed) as session:
        from_spells = service.monthly_indices_by_region(session, **months)
    session = committed()
    try:
        STATES["not stored yet"](session)
        assert service.monthly_indices_by_region(session, **months) == from_spells
    finally:
        session.rollback()
        session.close()
    assert set(from_spells.regions) == {"TBA Alpha", "TBA Beta"}
