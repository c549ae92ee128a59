"""The totals counted in arrays equal those counted record by record (`totals_of`), for
every part of a report and every window apart."""

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from outage.incidents.interruptions import InterruptionRecord, merge_overlaps
from outage.reliability.counting import Spells, count, part_masks
from outage.reliability.indices import (
    MICROSECOND,
    Totals,
    compute_indices,
    indices_of,
    totals_of,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 4
LIMIT = timedelta(hours=2)
SERVED = 10

records = st.lists(
    st.builds(
        lambda customer, start, length, event, planned: InterruptionRecord(
            customer=f"C{customer}",
            start=T0 + timedelta(minutes=start),
            end=T0 + timedelta(minutes=start + length),
            event=f"incident/{event}",
            planned=planned,
        ),
        st.integers(0, 5),
        st.integers(0, DAYS * 24 * 60 - 1),
        st.sampled_from([0, 2, 5, 6, 30, 121, 300]),
        st.integers(1, 4),
        st.booleans(),
    ),
    max_size=40,
)


def _columns(spells: list[InterruptionRecord], groups: int) -> Spells:
    def day(r: InterruptionRecord) -> int:
        return (r.start - T0) // timedelta(days=1)

    return Spells(
        customer=np.array([int(r.customer[1:]) for r in spells], dtype=np.int64),
        group=np.array([day(r) * groups // DAYS for r in spells], dtype=np.int64),
        day=np.array([day(r) for r in spells], dtype=np.int64),
        us=np.array([r.duration // MICROSECOND for r in spells], dtype=np.int64),
        event=np.array([int(r.event.removeprefix("incident/")) for r in spells], dtype=np.int64),
        planned=np.array([r.planned for r in spells], dtype=bool),
    )


def _expected(
    spells: list[InterruptionRecord], groups: int, major: set[int], part: int, n: int
) -> list[Totals]:
    def day(r: InterruptionRecord) -> int:
        return (r.start - T0) // timedelta(days=1)

    chosen = [
        r
        for r in spells
        if (r.planned if part == 2 else not r.planned and (part == 0 or day(r) not in major))
    ]
    return [
        totals_of([r for r in chosen if day(r) * groups // DAYS == g], n=n, celid_limit=LIMIT)
        for g in range(groups)
    ]


@settings(max_examples=300, deadline=None)
@given(
    records=records,
    groups=st.sampled_from([1, 2, 4]),
    major=st.sets(st.integers(0, DAYS - 1)),
    n=st.integers(0, 2),
)
def test_the_arrays_count_what_the_records_count(
    records: list[InterruptionRecord], groups: int, major: set[int], n: int
) -> None:
    spells = list(merge_overlaps(records))
    columns = _columns(spells, groups)
    mask = np.array([day in major for day in range(DAYS)], dtype=bool)
    found = count(columns, part_masks(columns, mask), groups=groups, n=n, celid_limit=LIMIT)
    assert found == [_expected(spells, groups, major, part, n) for part in range(3)]


@settings(max_examples=200, deadline=None)
@given(records=records, n=st.integers(0, 2))
def test_the_indices_of_the_arrays_totals_are_those_of_the_records(
    records: list[InterruptionRecord], n: int
) -> None:
    spells = list(merge_overlaps(records))
    columns = _columns(spells, 1)
    ((totals,),) = count(columns, [~columns.planned], groups=1, n=n, celid_limit=LIMIT)
    period = timedelta(days=DAYS)
    expected = compute_indices(
        [r for r in spells if not r.planned],
        customers_served=SERVED,
        period=period,
        n=n,
        celid_limit=LIMIT,
    )
    assert indices_of(totals, customers_served=SERVED, period=period) == expected


def test_a_momentary_spell_of_an_event_that_also_kept_the_customer_out_long_is_no_event() -> None:
    spells = merge_overlaps(
        [
            InterruptionRecord("C1", T0, T0 + timedelta(minutes=3), "incident/1"),
            InterruptionRecord(
                "C1", T0 + timedelta(hours=1), T0 + timedelta(hours=2), "incident/1"
            ),
            InterruptionRecord("C2", T0, T0 + timedelta(minutes=3), "incident/1"),
        ]
    )
    columns = _columns(list(spells), 1)
    ((totals,),) = count(columns, [~columns.planned], groups=1, n=0, celid_limit=LIMIT)
    assert (totals.momentary_events, totals.customer_interruptions) == (1, 1)
