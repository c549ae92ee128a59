"""The 2.5 beta method, checked against an independent computation with numpy."""

import math
from datetime import date, timedelta

import numpy as np
import pytest

from outage.reliability.med import history_start, major_event_days, med_threshold

DAYS = 5 * 365 + 1


def five_years(seed: int = 1366) -> np.ndarray:
    """Five years of daily SAIDI (minutes): log-normal, with a fifth of the days quiet."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(mean=0.5, sigma=1.2, size=DAYS)
    values[rng.random(DAYS) < 0.2] = 0.0
    return values


def test_threshold_matches_an_independent_computation() -> None:
    values = five_years()
    logs = np.log(values[values > 0])
    expected = math.exp(logs.mean() + 2.5 * logs.std(ddof=1))
    threshold = med_threshold(values.tolist())
    assert threshold is not None
    assert threshold.days == len(logs)
    assert threshold.alpha == pytest.approx(logs.mean(), rel=1e-12)
    assert threshold.beta == pytest.approx(logs.std(ddof=1), rel=1e-12)
    assert threshold.t_med == pytest.approx(expected, rel=1e-12)


def test_zero_days_do_not_move_the_threshold() -> None:
    values = five_years()
    with_zeros = med_threshold(values.tolist())
    without_zeros = med_threshold(values[values > 0].tolist())
    assert with_zeros == without_zeros


def test_days_above_the_threshold_are_major_event_days() -> None:
    values = five_years()
    threshold = med_threshold(values.tolist())
    assert threshold is not None
    first = date(2020, 1, 1)
    daily = {first + timedelta(days=i): float(v) for i, v in enumerate(values)}
    expected = [day for day, v in daily.items() if v > threshold.t_med]
    assert expected, "the generated series should have a few major event days"
    assert major_event_days(daily, threshold.t_med) == expected


def test_a_day_exactly_at_the_threshold_is_not_a_major_event_day() -> None:
    day = date(2025, 3, 1)
    assert major_event_days({day: 2.0}, 2.0) == []
    assert major_event_days({day: 2.0000001}, 2.0) == [day]


def test_fewer_than_two_days_with_interruptions_give_no_threshold() -> None:
    assert med_threshold([0.0, 0.0, 3.0]) is None
    assert med_threshold([]) is None


def test_negative_daily_saidi_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        med_threshold([1.0, -1.0, 2.0])


def test_history_is_the_five_years_before_the_period() -> None:
    assert history_start(date(2025, 3, 1)) == date(2020, 3, 1)
    assert history_start(date(2024, 2, 29)) == date(2019, 2, 28)
