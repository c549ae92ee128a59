"""IEEE 1366 indices on small hand-computed examples (10 customers served)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from outage.reliability.indices import (
    InterruptionRecord,
    asai,
    caidi,
    caifi,
    celid_s,
    celid_t,
    cemi,
    compute_indices,
    maifi_e,
    merge_overlaps,
    momentary_events,
    saidi,
    saifi,
)

SERVED = 10
T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def out(customer: str, minutes_from: float, minutes_to: float, event: int) -> InterruptionRecord:
    """`customer` out from T0 + minutes_from to T0 + minutes_to, by `event`."""
    return InterruptionRecord(
        customer=customer,
        start=T0 + timedelta(minutes=minutes_from),
        end=T0 + timedelta(minutes=minutes_to),
        event=f"incident/{event}",
    )


def partial_restoration() -> list[InterruptionRecord]:
    """Four customers out at T0; two are back after 30 minutes, the other two after 60."""
    return [out("A1", 0, 30, 1), out("A2", 0, 30, 1), out("A3", 0, 60, 1), out("A4", 0, 60, 1)]


def nested_outage() -> list[InterruptionRecord]:
    """Parent event 5 puts A1-A4 out for an hour; nested event 6 keeps A1 and A2 out for
    another hour after the parent is restored."""
    parent = [out(c, 0, 60, 5) for c in ("A1", "A2", "A3", "A4")]
    nested = [out(c, 0, 120, 6) for c in ("A1", "A2")]
    return parent + nested


def test_partial_restoration_counts_each_customer_once_with_their_own_duration() -> None:
    records = partial_restoration()
    # 4 customers interrupted; 30 + 30 + 60 + 60 = 180 customer minutes
    assert saifi(records, SERVED) == pytest.approx(0.4)
    assert saidi(records, SERVED) == pytest.approx(18.0)
    assert caidi(records) == pytest.approx(45.0)
    assert caifi(records) == pytest.approx(1.0)


def test_asai_is_the_share_of_customer_hours_with_supply() -> None:
    # 10 customers x 24 h = 240 customer hours, 3 of them without supply
    assert asai(partial_restoration(), SERVED, DAY) == pytest.approx(237 / 240)


def test_nested_outage_keeps_its_customers_out_once_without_double_counting() -> None:
    records = nested_outage()
    # A1, A2: 120 min each (one interruption); A3, A4: 60 min each
    assert saifi(records, SERVED) == pytest.approx(0.4)
    assert saidi(records, SERVED) == pytest.approx(36.0)
    assert caidi(records) == pytest.approx(90.0)


def test_overlapping_records_merge_into_the_interruption_of_the_first_event() -> None:
    merged = merge_overlaps(nested_outage())
    a1 = [r for r in merged if r.customer == "A1"]
    assert a1 == [out("A1", 0, 120, 5)]


def test_touching_records_are_one_interruption_and_apart_ones_two() -> None:
    touching = [out("A1", 0, 30, 1), out("A1", 30, 90, 2)]
    apart = [out("A1", 0, 30, 1), out("A1", 31, 90, 2)]
    assert len(merge_overlaps(touching)) == 1
    assert len(merge_overlaps(apart)) == 2


def test_caifi_counts_interruptions_per_customer_interrupted() -> None:
    records = [*nested_outage(), out("A1", 300, 360, 7)]
    # 5 interruptions of 4 distinct customers
    assert caifi(records) == pytest.approx(1.25)
    assert saifi(records, SERVED) == pytest.approx(0.5)


def test_momentary_interruptions_count_in_maifi_e_not_in_saifi() -> None:
    records = [out(f"C{i}", 0, 2, 2) for i in range(SERVED)]
    assert maifi_e(records, SERVED) == pytest.approx(1.0)
    assert saifi(records, SERVED) == 0.0
    assert saidi(records, SERVED) == 0.0


def test_five_minutes_is_momentary_and_a_second_more_sustained() -> None:
    five = out("A1", 0, 5, 1)
    longer = out("A1", 0, 5 + 1 / 60, 1)
    assert five.momentary and not longer.momentary


def test_maifi_e_counts_reclosings_of_one_event_once() -> None:
    records = [out("C1", 0, 1, 2), out("C1", 3, 4, 2), out("C1", 10, 11, 3)]
    # two operations of event 2 are one momentary event; event 3 is another
    assert momentary_events(records) == 2
    assert maifi_e(records, SERVED) == pytest.approx(0.2)


def test_a_momentary_event_that_ends_sustained_counts_as_sustained_only() -> None:
    records = [out("C1", 0, 1, 3), out("C1", 3, 63, 3)]
    assert momentary_events(records) == 0
    assert saifi(records, SERVED) == pytest.approx(0.1)
    assert saidi(records, SERVED) == pytest.approx(6.0)


def test_an_ongoing_interruption_is_sustained_however_short_so_far() -> None:
    record = replace(out("A1", 0, 2, 1), ongoing=True)
    assert not record.momentary
    assert saifi([record], SERVED) == pytest.approx(0.1)


def test_cemi_n_counts_customers_with_more_than_n_interruptions() -> None:
    records = [*nested_outage(), out("A1", 300, 360, 7)]
    # A1 had 2 sustained interruptions, A2-A4 one each
    assert cemi(records, SERVED, 1) == pytest.approx(0.1)
    assert cemi(records, SERVED, 0) == pytest.approx(0.4)
    assert cemi(records, SERVED, 2) == 0.0


def test_celid_s_looks_at_single_interruptions_and_celid_t_at_totals() -> None:
    records = [*nested_outage(), out("A3", 300, 400, 7)]
    # single interruptions: A1 120, A2 120, A3 60 and 100, A4 60; totals: A3 160
    two_hours_and_a_half = timedelta(minutes=150)
    assert celid_s(records, SERVED, timedelta(minutes=90)) == pytest.approx(0.3)
    assert celid_s(records, SERVED, two_hours_and_a_half) == 0.0
    assert celid_t(records, SERVED, two_hours_and_a_half) == pytest.approx(0.1)


def test_ratios_without_interruptions_are_none() -> None:
    assert caidi([]) is None
    assert caifi([out("C1", 0, 2, 2)]) is None


def test_compute_indices_gathers_every_index_and_its_totals() -> None:
    records = [*partial_restoration(), out("C1", 0, 2, 2)]
    indices = compute_indices(
        records, customers_served=SERVED, period=DAY, n=0, celid_limit=timedelta(minutes=45)
    )
    assert (indices.saifi, indices.saidi, indices.caidi) == pytest.approx((0.4, 18.0, 45.0))
    assert indices.maifi_e == pytest.approx(0.1)
    assert indices.cemi_n == pytest.approx(0.4)
    assert indices.celid_s == pytest.approx(0.2)
    assert indices.asai == pytest.approx(237 / 240)
    assert (
        indices.customer_interruptions,
        indices.customer_minutes,
        indices.customers_interrupted,
        indices.momentary_events,
    ) == (4, pytest.approx(180.0), 4, 1)


def test_no_customers_served_is_refused() -> None:
    with pytest.raises(ValueError, match="customers served"):
        saifi(partial_restoration(), 0)
