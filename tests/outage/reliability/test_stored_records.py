"""The interruption records incidents store as they change equal the derivation from the
trail, with the spells and totals the spells job keeps from them; a rebuild stores the
same again, and the backfill stores those of incidents restored before the upgrade."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_factory, session_scope
from outage.incidents.changes import cancel, merge_incidents, open_nested
from outage.incidents.interruptions import InterruptionRecord, merge_overlaps
from outage.incidents.models import (
    Incident,
    Interruption,
    InterruptionSpell,
    InterruptionSpellPack,
    InterruptionTotal,
    RecordedIncident,
    SpellsDue,
)
from outage.incidents.recorded import (
    PACKED_SPELL,
    backfill,
    fold,
    rebuild,
    stored_records,
    stored_spells,
)
from outage.reliability.records import interruption_records

from .conftest import act, grid_database, on_site, outage, restore

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOW = (datetime(2024, 1, 1, tzinfo=ZONE), datetime(2026, 1, 1, tzinfo=ZONE))


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 5, day, hour, minute, tzinfo=ZONE)


def histories(session: Session) -> int:
    """Outages of every kind a year brings, each driven as dispatchers and crews drive it.
    Returns the one still going on."""
    plain = outage(session, "FU-A", local(1, 8))
    restore(session, plain, local(1, 9, 10))

    by_device = outage(session, "BR-1", local(2, 8))
    on_site(session, by_device)
    act(session, by_device, "partial_restore", restored_device="SW-B", at=local(2, 8, 30))
    restore(session, by_device, local(2, 10))

    parent = outage(session, "BR-1", local(3, 8))
    nested = open_nested(
        session, parent, device_asset_ref="FU-A", confidence=1.0, customers_affected=4, reason="t"
    )
    restore(session, parent, local(3, 9))
    restore(session, nested, local(3, 11, 45))

    set_back = outage(session, "FU-A", local(4, 8))
    on_site(session, set_back)
    act(session, set_back, "partial_restore", restored_customers=2, at=local(4, 8, 40))
    act(session, set_back, "on_site")
    restore(session, set_back, local(4, 10))

    reopened = outage(session, "BR-2", local(5, 8))
    on_site(session, reopened)
    restore(session, reopened, local(5, 8, 50))
    act(session, reopened, "on_site")
    restore(session, reopened, local(5, 12))

    planned = outage(session, "FU-B", local(6, 8), cause="Planned: fuse replacement")
    restore(session, planned, local(6, 12))

    momentary = outage(session, "BR-2", local(7, 8))
    restore(session, momentary, local(7, 8, 3))

    single = outage(session, "account:C3", local(8, 14))
    restore(session, single, local(8, 18))

    cancel(session, outage(session, "FU-B", local(9, 8)), reason="recorded twice")
    kept, folded = outage(session, "FU-A", local(9, 10)), outage(session, "FU-A", local(9, 9))
    merge_incidents(session, kept, folded, reason="the same outage")
    restore(session, kept, local(9, 11))

    overlapping = outage(session, "FU-A", local(10, 8))
    restore(session, overlapping, local(10, 9))
    later = outage(session, "BR-1", local(10, 8, 30))
    restore(session, later, local(10, 10))

    still_on = outage(session, "FU-B", local(11, 8))
    on_site(session, still_on)
    act(session, still_on, "partial_restore", restored_customers=1, at=local(11, 8, 30))
    return still_on


def as_rows(records: list[InterruptionRecord]) -> set[tuple[str, datetime, datetime, str, bool]]:
    return {(r.customer, r.start, r.end, r.event, r.planned) for r in records}


def stored(session: Session) -> set[tuple[str, datetime, datetime, str, bool]]:
    return as_rows(stored_records(session))


def derived(session: Session) -> set[tuple[str, datetime, datetime, str, bool]]:
    return {
        (r.customer, r.start, r.end, r.event, r.planned)
        for r in interruption_records(
            session, start=WINDOW[0], end=WINDOW[1], as_of=datetime.now(ZONE)
        )
        if not r.ongoing
    }


def spells_and_totals(session: Session) -> tuple[set[tuple[object, ...]], dict[datetime, int]]:
    """The spells and totals once the spells job has written those due."""
    fold(session)
    totals = dict(
        session.execute(select(InterruptionTotal.began_at, InterruptionTotal.customer_us))
        .tuples()
        .all()
    )
    return set(as_rows(stored_spells(session))), totals


def test_the_stored_records_are_those_the_trail_gives(session: Session) -> None:
    histories(session)
    assert stored(session) == derived(session)
    assert len(stored(session)) > 40


def test_an_outage_still_on_stores_only_the_customers_already_back(session: Session) -> None:
    still_on = histories(session)
    back = [account for account, *_, event, _ in stored(session) if event == f"incident/{still_on}"]
    assert back == ["B1"]


def test_the_spells_merge_the_stored_records_and_the_totals_count_them(
    session: Session,
) -> None:
    histories(session)
    spells, totals = spells_and_totals(session)
    records = interruption_records(
        session, start=WINDOW[0], end=WINDOW[1], as_of=datetime.now(ZONE)
    )
    merged = merge_overlaps(r for r in records if not r.ongoing)
    assert spells == as_rows(list(merged))
    expected: dict[datetime, int] = defaultdict(int)
    for spell in merged:
        if not spell.planned and not spell.momentary:
            expected[spell.start] += spell.duration // timedelta(microseconds=1)
    assert totals == expected


def test_a_rebuild_stores_the_same_again(session: Session) -> None:
    histories(session)
    before = stored(session), spells_and_totals(session)
    first = rebuild(session)
    assert (stored(session), spells_and_totals(session)) == before
    assert rebuild(session) == first
    assert (stored(session), spells_and_totals(session)) == before


def test_a_rebuild_of_some_days_leaves_the_others_as_they_are(session: Session) -> None:
    histories(session)
    before = stored(session), spells_and_totals(session)
    found = rebuild(session, since=local(3, 0), until=local(5, 0))
    assert found.incidents == 3  # parent and nested, and the one set back
    assert (stored(session), spells_and_totals(session)) == before


def test_a_rebuild_leaves_the_customers_changes_left_due(session: Session) -> None:
    histories(session)
    due = sorted(session.scalars(select(SpellsDue.customer_id)))
    rebuild(session, since=local(3, 0), until=local(5, 0))
    assert sorted(session.scalars(select(SpellsDue.customer_id))) == due


def test_a_rebuild_leaves_no_customer_due_of_its_own(session: Session) -> None:
    histories(session)
    session.execute(delete(SpellsDue))
    rebuild(session, since=local(3, 0), until=local(5, 0))
    assert not session.scalars(select(SpellsDue.customer_id)).all()


def forget_records(session: Session) -> None:
    """As before the upgrade: no incident's records stored."""
    for table in (Interruption, RecordedIncident, SpellsDue):
        session.execute(delete(table))


def test_the_backfill_stores_the_records_of_incidents_restored_before_the_upgrade(
    session: Session,
) -> None:
    still_on = histories(session)
    before = {row for row in stored(session) if row[3] != f"incident/{still_on}"}
    forget_records(session)
    while backfill(session, None, batch=3):
        pass
    assert stored(session) == before


def test_the_backfill_leaves_incidents_still_on_to_their_restoration(session: Session) -> None:
    still_on = histories(session)
    forget_records(session)
    while backfill(session, None, batch=3):
        pass
    recorded = set(session.scalars(select(RecordedIncident.incident_id)))
    assert still_on not in recorded
    assert len(recorded) >= 10


def spell_rows(session: Session) -> set[tuple[int, datetime, datetime, int, bool]]:
    return set(
        session.execute(
            select(
                InterruptionSpell.customer_id,
                InterruptionSpell.start,
                InterruptionSpell.end,
                InterruptionSpell.incident_id,
                InterruptionSpell.planned,
            )
        ).tuples()
    )


def packed_rows(session: Session) -> set[tuple[int, datetime, datetime, int, bool]]:
    """The packed rows' spells, one a customer's spell."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    found = set()
    for customer, data in session.execute(
        select(InterruptionSpellPack.customer_id, InterruptionSpellPack.spells)
    ).tuples():
        for start, end, event, planned in np.frombuffer(data, dtype=PACKED_SPELL).tolist():
            found.add(
                (
                    customer,
                    epoch + timedelta(microseconds=start),
                    epoch + timedelta(microseconds=end),
                    event,
                    planned,
                )
            )
    return found


def rebuilt_some_days(session: Session) -> None:
    fold(session)
    rebuild(session, since=local(3, 0), until=local(5, 0))


def backfilled(session: Session) -> None:
    forget_records(session)
    while backfill(session, None, batch=3):
        pass
    fold(session)


WRITTEN = {
    "by the spells job": fold,
    "by a rebuild": rebuild,
    "by a rebuild of some days": rebuilt_some_days,
    "after the backfill": backfilled,
}


@pytest.mark.parametrize("written", WRITTEN)
def test_the_packed_rows_hold_each_customers_spells(session: Session, written: str) -> None:
    histories(session)
    WRITTEN[written](session)
    spells = spell_rows(session)
    assert len(spells) > 30
    assert packed_rows(session) == spells
    packs = session.scalar(select(func.count()).select_from(InterruptionSpellPack))
    assert packs == len({customer for customer, *_ in spells})


@pytest.fixture
def committed(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a database of its own, whose work is committed."""
    with grid_database(database_url) as url:
        yield session_factory(url)


def test_two_restorations_of_the_same_customers_both_commit_without_waiting(
    committed: sessionmaker[Session],
) -> None:
    with session_scope(committed) as session:
        feeder = outage(session, "BR-1", local(12, 8))
        fuse = outage(session, "FU-A", local(12, 8, 10))  # A1-A4 are under both
    first = committed()
    try:
        restore(first, feeder, local(12, 9))
        with session_scope(committed) as second:
            second.execute(text("SET LOCAL lock_timeout = '5s'"))
            restore(second, fuse, local(12, 9, 30))
        first.commit()
    finally:
        first.close()
    with session_scope(committed) as session:
        stored_by = set(session.scalars(select(Interruption.incident_id).distinct()))
        assert stored_by == {feeder, fuse}
        assert fold(session) == 7
        assert len(stored_spells(session)) == 7


def test_a_change_to_an_incident_waits_for_the_rebuild_that_stores_it(
    committed: sessionmaker[Session],
) -> None:
    with session_scope(committed) as session:
        incident = outage(session, "BR-1", local(12, 8))
        restore(session, incident, local(12, 9))
    rebuilding = committed()
    try:
        rebuild(rebuilding, since=local(12, 0), until=local(13, 0))
        with session_scope(committed) as change, pytest.raises(OperationalError):
            change.execute(
                select(Incident.id)
                .where(Incident.id == incident)
                .with_for_update(key_share=True, nowait=True)
            )
    finally:
        rebuilding.close()


def test_a_second_spells_job_leaves_the_customers_to_the_one_running(
    committed: sessionmaker[Session],
) -> None:
    with session_scope(committed) as session:
        restore(session, outage(session, "BR-1", local(12, 8)), local(12, 9))
    first = committed()
    try:
        with session_scope(committed) as second:
            assert fold(first) == 7
            assert fold(second) == 0
        first.commit()
    finally:
        first.close()
