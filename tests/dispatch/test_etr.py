"""Estimated times of restoration."""

import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.etr import (
    DEFAULT_REPAIR_MIN,
    SERVICE,
    Basis,
    Calibration,
    Correction,
    EtrSource,
    ManualEtr,
    Outcome,
    Quantiles,
    RepairEstimate,
    RepairHistory,
    RepairSample,
    Spread,
    Stage,
    assessment_s,
    assessment_to_come,
    crew_backlog_s,
    daytime,
    estimate_etr,
    last_of,
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
    history = RepairHistory(samples("fuse", "tree", range(10, 101, 10)), min_samples=10)
    estimate = history.estimate("fuse", "tree")
    assert estimate.basis is Basis.KIND_AND_CAUSE
    assert estimate.samples == 10
    assert estimate.spread == Spread(
        pytest.approx(28 * MIN), pytest.approx(55 * MIN), pytest.approx(82 * MIN)
    )


def test_a_known_cause_moves_the_kinds_repairs_by_its_effect() -> None:
    history = RepairHistory(
        samples("fuse", "tree", range(100, 120)) + samples("fuse", "animal", range(10, 30)),
        min_samples=10,
    )
    tree, animal = history.estimate("fuse", "tree"), history.estimate("fuse", "animal")
    assert tree.basis is animal.basis is Basis.KIND_AND_CAUSE
    assert tree.expected_s == pytest.approx(110 * MIN, rel=0.05)
    assert animal.expected_s == pytest.approx(20 * MIN, rel=0.05)
    assert animal.expected_s < history.estimate("fuse").expected_s < tree.expected_s


def test_repairs_by_night_are_estimated_from_night_repairs_when_there_are_enough() -> None:
    day = [RepairSample("fuse", "tree", m * MIN, daytime=True) for m in range(10, 20)]
    night = [RepairSample("fuse", "tree", m * MIN, daytime=False) for m in range(100, 110)]
    history = RepairHistory(day + night, min_samples=10)
    night_estimate = history.estimate("fuse", "tree", daytime=False).expected_s
    assert night_estimate == pytest.approx(104.5 * MIN, rel=0.02)
    assert history.estimate("fuse", "tree", daytime=True).expected_s == pytest.approx(
        14.5 * MIN, rel=0.02
    )
    assert history.estimate("fuse", "tree").samples == 20


def test_a_nights_effect_learnt_on_other_kinds_counts_for_a_kind_seen_only_by_day() -> None:
    fuses = [RepairSample("fuse", None, m * MIN, daytime=True) for m in range(40, 60)] + [
        RepairSample("fuse", None, 2 * m * MIN, daytime=False) for m in range(40, 60)
    ]
    lines = [RepairSample("line", None, m * MIN, daytime=True) for m in range(100, 120)]
    history = RepairHistory(fuses + lines, min_samples=10)
    by_day = history.estimate("line", daytime=True).expected_s
    assert by_day == pytest.approx(110 * MIN, rel=0.05)
    assert history.estimate("line", daytime=False).expected_s == pytest.approx(2 * by_day, rel=0.05)


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
    median, _ = DEFAULT_REPAIR_MIN["transformer"]
    assert default.expected_s == pytest.approx(median * MIN)
    assert default.spread.earliest_s < default.expected_s < default.spread.latest_s
    assert RepairHistory().estimate("something new").expected_s > 0


def test_the_default_range_follows_the_chosen_quantiles() -> None:
    narrow = RepairHistory(quantiles=Quantiles(0.4, 0.5, 0.6)).estimate("line").spread
    wide = RepairHistory(quantiles=Quantiles(0.1, 0.5, 0.9)).estimate("line").spread
    assert wide.earliest_s < narrow.earliest_s < narrow.latest_s < wide.latest_s
    assert wide.latest_s == pytest.approx(DEFAULT_REPAIR_MIN["line"][1] * MIN)


def test_quantiles_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="earliest < expected < latest"):
        Quantiles(0.5, 0.5, 0.8)


def test_time_on_site_so_far_counts() -> None:
    history = RepairHistory(samples("line", None, range(10, 201, 10)), min_samples=5)
    # After 150 minutes on site: of the 5 repairs that took longer (160..200), the rest.
    left = history.estimate("line", elapsed_s=150 * MIN)
    assert left.basis is Basis.KIND
    assert left.samples == 5
    assert left.expected_s == pytest.approx(30 * MIN)
    # Longer than any repair on record: the defaults, never less than a quarter of them.
    overdue = history.estimate("line", elapsed_s=500 * MIN)
    assert overdue.basis is Basis.DEFAULT
    assert overdue.expected_s == pytest.approx(0.25 * DEFAULT_REPAIR_MIN["line"][0] * MIN)


REPAIR = RepairEstimate(
    spread=Spread(40 * MIN, 60 * MIN, 120 * MIN), basis=Basis.DEFAULT, samples=0
)


def test_etr_is_travel_assessment_and_repair() -> None:
    etr = estimate_etr(
        now=NOW,
        repair=REPAIR,
        stage=Stage.BEFORE_ARRIVAL,
        travel_s=10 * MIN,
        assessment_s=assessment_s("fuse"),
    )
    assert etr.source is EtrSource.PREDICTED
    assert etr.expected == NOW + timedelta(minutes=10 + 15 + 60)
    assert etr.earliest == NOW + timedelta(minutes=10 + 15 + 40)
    assert etr.latest == etr.deadline == NOW + timedelta(minutes=10 + 15 + 120)
    assert etr.raw == Spread(65 * MIN, 85 * MIN, 145 * MIN)
    assert assessment_s(SERVICE) < assessment_s("line")
    assert assessment_s("unknown kind") > 0


def test_finding_the_fault_is_added_to_a_default_repair_only() -> None:
    history = RepairHistory(samples("fuse", None, range(10, 101, 10)), min_samples=10)
    assert assessment_to_come("fuse", REPAIR) == assessment_s("fuse")
    assert assessment_to_come("fuse", history.estimate("fuse")) == 0.0
    assert assessment_to_come("fuse", history.assessed("fuse", 3600.0)) == 0.0


def test_the_crews_backlog_counts() -> None:
    etr = estimate_etr(now=NOW, repair=REPAIR, stage=Stage.BEFORE_ARRIVAL, backlog_s=180 * MIN)
    assert etr.expected == NOW + timedelta(minutes=240)
    assert etr.backlog_s == 180 * MIN


def test_a_manual_etr_wins_until_it_lapses_and_has_no_range() -> None:
    manual = ManualEtr(at=NOW + timedelta(minutes=30), source=EtrSource.CREW)
    etr = estimate_etr(now=NOW, repair=REPAIR, stage=Stage.ON_SITE, travel_s=600, manual=manual)
    assert (etr.expected, etr.source) == (manual.at, EtrSource.CREW)
    assert (etr.earliest, etr.latest, etr.repair) == (None, None, None)
    assert etr.deadline == manual.at
    about_to_lapse = estimate_etr(
        now=NOW + timedelta(minutes=20), repair=REPAIR, stage=Stage.ON_SITE, manual=manual
    )
    assert about_to_lapse.source is EtrSource.PREDICTED
    lapsed = estimate_etr(
        now=NOW + timedelta(hours=1), repair=REPAIR, stage=Stage.ON_SITE, manual=manual
    )
    assert lapsed.source is EtrSource.PREDICTED
    assert lapsed.expected == NOW + timedelta(hours=2)


def outcomes(stage: Stage, storm: bool, ratios: list[float]) -> list[Outcome]:
    """Estimates like `REPAIR` (an hour expected) that took `ratio` times that hour."""
    return [Outcome(stage, storm, REPAIR.spread, ratio * 60 * MIN) for ratio in ratios]


def test_calibration_stretches_estimates_that_ran_late() -> None:
    # Every repair took between 2 and 3 times its expected hour.
    ratios = [2 + i / 99 for i in range(100)]
    calibration = Calibration(outcomes(Stage.BEFORE_ARRIVAL, False, ratios))
    etr = estimate_etr(now=NOW, repair=REPAIR, stage=Stage.BEFORE_ARRIVAL, calibration=calibration)
    told = (etr.latest - NOW).total_seconds() / 60
    # The latest time covers 80% of those outcomes: about 2.8 hours.
    assert 2.78 * 60 <= told <= 2.84 * 60
    assert etr.raw == REPAIR.spread
    share_by_latest = sum(r * 60 <= told for r in ratios) / len(ratios)
    assert 0.8 <= share_by_latest <= 0.83


def test_a_headline_correction_within_the_noise_of_the_outcomes_is_not_made() -> None:
    # Half the repairs took half their hour, half twice it, one a little more: a median
    # 3 % late, far within the noise of so spread a sample.
    ratios = [0.5] * 50 + [2.0] * 50 + [1.03]
    calibration = Calibration(outcomes(Stage.BEFORE_ARRIVAL, False, ratios))
    assert calibration.correction(Stage.BEFORE_ARRIVAL, False).expected == 1.0
    late = Calibration(outcomes(Stage.BEFORE_ARRIVAL, False, [r * 2 for r in ratios]))
    assert late.correction(Stage.BEFORE_ARRIVAL, False).expected == pytest.approx(2.06)


def test_calibration_keeps_the_range_in_order() -> None:
    ratios = [1.0] * 40
    calibration = Calibration(outcomes(Stage.ON_SITE, False, ratios))
    told = calibration.correction(Stage.ON_SITE, False).apply(Spread(30 * MIN, 60 * MIN, 120 * MIN))
    # Every outcome was exactly the hour: all three collapse towards it, in order.
    assert told.earliest_s <= told.expected_s <= told.latest_s
    assert told.expected_s == pytest.approx(60 * MIN)


def test_calibration_is_by_stage_and_storm_and_needs_enough_outcomes() -> None:
    late = outcomes(Stage.BEFORE_ARRIVAL, True, [3.0] * 40)
    on_time = outcomes(Stage.BEFORE_ARRIVAL, False, [1.0] * 40)
    few = outcomes(Stage.ON_SITE, False, [5.0] * 10)
    calibration = Calibration(late + on_time + few, min_outcomes=30)
    assert calibration.correction(Stage.BEFORE_ARRIVAL, True).expected == pytest.approx(3.0)
    assert calibration.correction(Stage.BEFORE_ARRIVAL, False).expected == pytest.approx(1.0)
    assert calibration.correction(Stage.ON_SITE, False) == Correction()


def test_a_storm_without_its_own_outcomes_is_calibrated_by_its_stage() -> None:
    calibration = Calibration(outcomes(Stage.ON_SITE, False, [2.0] * 40))
    assert calibration.correction(Stage.ON_SITE, True).expected == pytest.approx(2.0)


def test_daytime_is_the_local_hour() -> None:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7
    assert daytime(datetime(2025, 1, 6, 1, 0, tzinfo=UTC), zone)  # 08:00 local
    assert not daytime(datetime(2025, 1, 6, 13, 0, tzinfo=UTC), zone)  # 20:00 local


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


def test_one_time_for_many_is_when_the_last_is_back() -> None:
    soon = estimate_etr(now=NOW, repair=REPAIR, stage=Stage.ON_SITE)
    later = estimate_etr(now=NOW, repair=REPAIR, stage=Stage.ON_SITE, travel_s=90 * MIN)
    assert last_of([soon, later]) == (later.expected, later.deadline)
    assert last_of([]) is None


def test_assessed_damage_is_the_expected_repair_with_the_kinds_relative_range() -> None:
    history = RepairHistory(samples("line", None, range(10, 101, 10)), min_samples=10)
    like = history.estimate("line")
    assessed = history.assessed("line", 6 * 3600.0)
    assert assessed.basis is Basis.ASSESSED
    assert assessed.expected_s == 6 * 3600.0
    ratio = assessed.expected_s / like.expected_s
    assert assessed.spread.earliest_s == pytest.approx(like.spread.earliest_s * ratio)
    assert assessed.spread.latest_s == pytest.approx(like.spread.latest_s * ratio)


def test_percentiles_from_sorted_residuals_equal_those_of_the_durations() -> None:
    rng = random.Random(20250106)
    causes = ("tree", "animal", "wind", None)
    history = RepairHistory(
        [
            RepairSample(
                rng.choice(("fuse", "line", "transformer")),
                rng.choice(causes),
                rng.lognormvariate(8, 0.7),
                daytime=rng.choice((True, False, None)),
                storm=rng.choice((True, False, None)),
            )
            for _ in range(600)
        ],
        quantiles=Quantiles(0.1, 0.5, 0.9),
        min_samples=10,
    )
    checked = 0
    for kind in ("fuse", "line", "transformer"):
        for cause in causes:
            for storm in (True, False, None):
                for elapsed_s in (0.0, 1800.0, 6000.0, 20000.0):
                    levels = history._levels(cause, storm, True)
                    fit = history._with_cause if levels[0] is not None else history._without_cause
                    middle = fit.log_median(kind, levels)
                    durations = [math.exp(middle + r) for r in fit.residuals[kind]]
                    rng.shuffle(durations)
                    longer = [d - elapsed_s for d in durations if d - elapsed_s > 1e-6]
                    estimate = history.estimate(
                        kind, cause, storm=storm, daytime=True, elapsed_s=elapsed_s
                    )
                    if len(longer) < 10:
                        assert estimate.basis is Basis.DEFAULT
                        continue
                    checked += 1
                    assert estimate.samples == len(longer)
                    assert estimate.spread == Spread(
                        pytest.approx(percentile(longer, 0.1), rel=1e-12),
                        pytest.approx(percentile(longer, 0.5), rel=1e-12),
                        pytest.approx(percentile(longer, 0.9), rel=1e-12),
                    )
    assert checked > 100
