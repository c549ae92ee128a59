"""Estimated times of restoration."""

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.etr import (
    DEFAULT_REPAIR_MIN,
    SERVICE,
    Basis,
    EtrSource,
    ManualEtr,
    RepairEstimate,
    RepairHistory,
    RepairSample,
    assessment_s,
    crew_backlog_s,
    estimate_etr,
    needs_reestimate,
    percentile,
)
from dispatch.model import Assignment, Method, Plan, Visit

NOW = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
MIN = 60.0


def samples(kind: str, cause: str | None, minutes: range) -> list[RepairSample]:
    return [RepairSample(kind, cause, m * MIN) for m in minutes]


def test_percentile_interpolates() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.5) == pytest.approx(5.5)
    assert percentile(values, 0.9) == pytest.approx(9.1)
    assert percentile([3.0], 0.9) == 3.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_enough_history_of_the_kind_and_cause_gives_its_percentiles() -> None:
    history = RepairHistory(
        samples("fuse", "tree", range(10, 101, 10))  # 10 samples: 10, 20, ..., 100 min
        + samples("fuse", "animal", range(200, 205)),
        min_samples=10,
    )
    estimate = history.estimate("fuse", "tree")
    assert estimate.basis is Basis.KIND_AND_CAUSE
    assert estimate.samples == 10
    assert estimate.typical_s == pytest.approx(55 * MIN)
    assert estimate.cautious_s == pytest.approx(91 * MIN)


def test_too_few_of_the_cause_falls_back_to_the_kind_then_to_defaults() -> None:
    history = RepairHistory(
        samples("fuse", "tree", range(10, 101, 10)) + samples("fuse", "animal", range(1, 4)),
        min_samples=10,
    )
    by_kind = history.estimate("fuse", "animal")
    assert by_kind.basis is Basis.KIND
    assert by_kind.samples == 13
    default = history.estimate("transformer", "tree")
    assert default.basis is Basis.DEFAULT and default.samples == 0
    typical, cautious = DEFAULT_REPAIR_MIN["transformer"]
    assert (default.typical_s, default.cautious_s) == (typical * MIN, cautious * MIN)
    assert RepairHistory().estimate("something new").typical_s > 0


def test_time_on_site_so_far_counts() -> None:
    history = RepairHistory(samples("line", None, range(10, 201, 10)), min_samples=5)
    # After 150 minutes on site: of the 5 repairs that took longer (160..200), the rest.
    left = history.estimate("line", elapsed_s=150 * MIN)
    assert left.basis is Basis.KIND
    assert left.samples == 5
    assert left.typical_s == pytest.approx(30 * MIN)
    # Longer than any repair on record: the defaults, never less than a quarter of them.
    overdue = history.estimate("line", elapsed_s=500 * MIN)
    assert overdue.basis is Basis.DEFAULT
    assert overdue.typical_s == pytest.approx(0.25 * DEFAULT_REPAIR_MIN["line"][0] * MIN)


REPAIR = RepairEstimate(typical_s=60 * MIN, cautious_s=120 * MIN, basis=Basis.DEFAULT, samples=0)


def test_etr_is_travel_assessment_and_repair() -> None:
    etr = estimate_etr(now=NOW, repair=REPAIR, travel_s=10 * MIN, assessment_s=assessment_s("fuse"))
    assert etr.source is EtrSource.PREDICTED
    assert etr.expected == NOW + timedelta(minutes=10 + 15 + 60)
    assert etr.cautious == NOW + timedelta(minutes=10 + 15 + 120)
    assert assessment_s(SERVICE) < assessment_s("line")
    assert assessment_s("unknown kind") > 0


def test_the_crews_backlog_counts_in_storm_mode_only() -> None:
    calm = estimate_etr(now=NOW, repair=REPAIR, backlog_s=180 * MIN)
    storm = estimate_etr(now=NOW, repair=REPAIR, backlog_s=180 * MIN, storm=True)
    assert calm.expected == NOW + timedelta(minutes=60)
    assert storm.expected == NOW + timedelta(minutes=240)
    assert storm.backlog_s == 180 * MIN


def test_a_manual_etr_wins_until_it_lapses() -> None:
    manual = ManualEtr(at=NOW + timedelta(minutes=30), source=EtrSource.CREW)
    etr = estimate_etr(now=NOW, repair=REPAIR, travel_s=600, manual=manual)
    assert (etr.expected, etr.cautious, etr.source) == (manual.at, manual.at, EtrSource.CREW)
    assert etr.repair is None
    lapsed = estimate_etr(now=NOW + timedelta(hours=1), repair=REPAIR, manual=manual)
    assert lapsed.source is EtrSource.PREDICTED
    assert lapsed.expected == NOW + timedelta(hours=2)


def test_needs_reestimate_before_the_etr_lapses() -> None:
    margin = timedelta(minutes=15)
    assert not needs_reestimate(NOW + timedelta(minutes=30), NOW, margin)
    assert needs_reestimate(NOW + timedelta(minutes=10), NOW, margin)
    assert needs_reestimate(NOW - timedelta(minutes=1), NOW, margin)
    assert needs_reestimate(NOW + timedelta(minutes=14), NOW)


def test_crew_backlog_is_the_work_ahead_on_its_route() -> None:
    def at(minutes: int) -> datetime:
        return NOW + timedelta(minutes=minutes)

    plan = Plan(
        made_at=NOW,
        method=Method.OPTIMISER,
        assignments=(
            Assignment(
                1,
                (
                    Visit(10, arrival=at(5), start=at(5), finish=at(65), travel_s=300),
                    Visit(11, arrival=at(75), start=at(75), finish=at(100), travel_s=600),
                ),
            ),
        ),
        unassigned=(),
        objective=0,
        cmi=0,
        solve_s=0,
    )
    assert crew_backlog_s(plan, 10) == 0
    assert crew_backlog_s(plan, 11) == 65 * MIN
    assert crew_backlog_s(plan, 12) is None
