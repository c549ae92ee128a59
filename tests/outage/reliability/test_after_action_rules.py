"""The after-action report's pure rules: crews' jobs from a trail, hours covered, ETRs
lapsed and their first error, customers told in time, hours bucketed."""

from datetime import UTC, datetime, timedelta

import pytest

from outage.incidents.enums import AuditAction
from outage.reliability.after_action import (
    TOLD_WITHIN,
    EtrLapse,
    FirstEtr,
    ToldEtr,
    TrailStep,
    accuracy,
    etr_lapses,
    first_etr,
    hour_buckets,
    hours_within,
    job_spans,
    told_etr,
    told_in_time,
)

T0 = datetime(2025, 3, 10, 8, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_job_runs_from_the_assignment_to_the_restoration_time_told() -> None:
    trail = [
        TrailStep(at(0), AuditAction.ASSIGNED, 7),
        TrailStep(at(20), AuditAction.ON_SITE, 7),
        TrailStep(at(200), AuditAction.RESTORED, None, restored_at=at(90)),
    ]
    assert job_spans(trail, at(600)) == [(7, (at(0), at(90)))]


def test_a_reassignment_ends_one_crews_job_and_starts_anothers() -> None:
    trail = [
        TrailStep(at(0), AuditAction.ASSIGNED, 7),
        TrailStep(at(30), AuditAction.ASSIGNED, 8),
        TrailStep(at(60), AuditAction.UNASSIGNED, 8),
    ]
    assert job_spans(trail, at(600)) == [(7, (at(0), at(30))), (8, (at(30), at(60)))]


def test_a_job_still_open_runs_to_the_end() -> None:
    assert job_spans([TrailStep(at(0), AuditAction.ASSIGNED, 7)], at(45)) == [(7, (at(0), at(45)))]


def test_a_crew_en_route_without_an_assignment_on_the_trail_starts_a_job() -> None:
    trail = [
        TrailStep(at(10), AuditAction.EN_ROUTE, 7),
        TrailStep(at(20), AuditAction.CANCELLED, None),
    ]
    assert job_spans(trail, at(600)) == [(7, (at(10), at(20)))]


def test_a_trail_without_a_crew_has_no_job() -> None:
    assert job_spans([TrailStep(at(0), AuditAction.RESTORED, None, at(0))], at(60)) == []


def test_overlapping_spans_count_once_and_are_clipped_to_the_period() -> None:
    spans = [(at(-60), at(30)), (at(0), at(60)), (at(120), at(240))]
    assert hours_within(spans, at(0), at(180)) == pytest.approx(2.0)


def test_no_span_is_no_hour() -> None:
    assert hours_within([], at(0), at(60)) == 0.0


def _told(told: float, etr: float, latest: float | None = None) -> ToldEtr:
    return ToldEtr(at(told), at(etr), at(latest) if latest is not None else None)


def test_an_etr_passed_while_out_and_not_replaced_lapses() -> None:
    assert etr_lapses([_told(0, 60)], None, at(0), at(600)) == [_told(0, 60)]


def test_an_etr_replaced_before_it_passed_does_not_lapse() -> None:
    told = [_told(0, 60), _told(50, 120)]
    assert etr_lapses(told, at(100), at(0), at(600)) == []


def test_an_etr_replaced_after_it_passed_lapses() -> None:
    told = [_told(0, 60), _told(70, 120)]
    assert etr_lapses(told, at(100), at(0), at(600)) == [_told(0, 60)]


def test_a_range_lapses_at_its_latest_time() -> None:
    ranged = _told(0, 60, latest=90)
    assert etr_lapses([ranged], at(80), at(0), at(600)) == []
    assert etr_lapses([ranged], at(100), at(0), at(600)) == [ranged]


def test_a_deadline_outside_the_period_is_not_its_lapse() -> None:
    assert etr_lapses([_told(0, 60)], None, at(90), at(600)) == []


def test_the_first_etr_told_is_set_against_the_restoration() -> None:
    first = first_etr(5, [_told(30, 150), _told(0, 60, latest=90)], at(100))
    assert first == FirstEtr(5, at(0), at(60), at(90), at(100), 40.0, False)


def test_an_outage_never_told_an_etr_has_no_first() -> None:
    assert first_etr(5, [], at(100)) is None


def test_accuracy_takes_the_median_absolute_error_and_the_coverage_of_ranges() -> None:
    firsts = [
        FirstEtr(1, at(0), at(60), None, at(30), -30.0, None),
        FirstEtr(2, at(0), at(60), at(90), at(70), 10.0, True),
        FirstEtr(3, at(0), at(60), at(90), at(120), 60.0, False),
    ]
    lapses = [EtrLapse(3, at(0), at(90)), EtrLapse(3, at(95), at(110))]
    found = accuracy(firsts, restored=4, lapses=lapses)
    assert (found.restored, found.told, found.median_abs_error_minutes) == (4, 3, 30.0)
    assert (found.ranged, found.covered, found.coverage) == (2, 1, 0.5)
    assert found.lapsed_incidents == 1


def test_accuracy_without_etrs_has_no_figures() -> None:
    found = accuracy([], restored=2, lapses=[])
    assert (found.median_abs_error_minutes, found.coverage) == (None, None)


def test_the_audit_details_make_an_etr_told() -> None:
    details = {
        "etr": at(60).isoformat(),
        "earliest": at(40).isoformat(),
        "latest": at(90).isoformat(),
    }
    assert told_etr(at(0), details) == _told(0, 60, latest=90)
    assert told_etr(at(0), {"etr": at(60).isoformat(), "source": "crew"}).latest is None


def test_customers_first_told_within_fifteen_minutes_count() -> None:
    sent = {1: T0 + TOLD_WITHIN, 2: T0 + TOLD_WITHIN + timedelta(seconds=1), 3: at(1)}
    assert told_in_time(T0, 10, sent) == 2


def test_no_outage_counts_more_customers_told_than_it_affected() -> None:
    assert told_in_time(T0, 1, {1: at(1), 2: at(2)}) == 1


def test_moments_fall_in_their_hour_and_outside_ones_are_dropped() -> None:
    moments = [at(0), at(59), at(60), at(179), at(-1), at(180)]
    assert hour_buckets(moments, T0, 3) == [2, 1, 1]


def test_an_etr_withdrawn_before_its_deadline_did_not_lapse() -> None:
    told_at = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    etr = ToldEtr(told_at, told_at + timedelta(hours=1), None)
    withdrawn = [told_at + timedelta(minutes=30)]
    start, end = told_at, told_at + timedelta(hours=3)
    assert etr_lapses([etr], None, start, end, withdrawn) == []
    assert etr_lapses([etr], None, start, end) == [etr]
