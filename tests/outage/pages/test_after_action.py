"""The after-action page's own rules: which hours its charts name, and the bands of the
first ETRs' errors (the page itself is tested over HTTP in tests/outage/reliability)."""

from datetime import UTC, datetime, timedelta

from outage.pages.after_action import HOUR_LABELS, error_bands, hour_labels

T0 = datetime(2025, 3, 10, tzinfo=UTC)


def _hours(count: int) -> list[datetime]:
    return [T0 + timedelta(hours=i) for i in range(count)]


def test_a_day_names_every_other_hour_by_its_time() -> None:
    names = hour_labels(_hours(24))
    assert names[:3] == ["00:00", "", "02:00"]
    assert len([n for n in names if n]) == HOUR_LABELS


def test_a_month_names_some_days_by_their_date() -> None:
    names = [n for n in hour_labels(_hours(24 * 31)) if n]
    assert names[0] == "10/03" and len(names) <= HOUR_LABELS
    assert all(len(n) == len("dd/mm") for n in names)


def test_errors_fall_in_their_band_and_a_bound_in_the_band_nearer_zero() -> None:
    errors = [-61.0, -60.0, -15.0, -14.0, 0.0, 15.0, 16.0, 60.0, 61.0]
    assert error_bands(errors) == [1, 1, 4, 2, 1]
