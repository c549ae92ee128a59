"""Durations given as numbers of a unit, held as timedeltas."""

from datetime import timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from outage.durations import Days, Hours, Minutes, Seconds, WholeDays

HOURS = TypeAdapter(Hours)
WHOLE_DAYS = TypeAdapter(WholeDays)


@pytest.mark.parametrize(
    ("kind", "given", "expected"),
    [
        (Seconds, "90", timedelta(seconds=90)),
        (Minutes, 15, timedelta(minutes=15)),
        (Hours, "1.5", timedelta(minutes=90)),
        (Days, 2.5, timedelta(days=2, hours=12)),
        (WholeDays, "365", timedelta(days=365)),
        (Hours, 0, timedelta(0)),
    ],
)
def test_a_number_is_read_in_its_unit(kind: object, given: object, expected: timedelta) -> None:
    assert TypeAdapter(kind).validate_python(given) == expected


def test_a_duration_is_taken_as_it_is() -> None:
    assert HOURS.validate_python(timedelta(minutes=3)) == timedelta(minutes=3)


@pytest.mark.parametrize("given", ["abc", "", "nan", "inf", "-inf", True, None, [1]])
def test_what_is_not_a_finite_number_is_refused(given: object) -> None:
    with pytest.raises(ValidationError, match="expected a number of hours"):
        HOURS.validate_python(given)


@pytest.mark.parametrize("given", ["-1", -0.5, timedelta(seconds=-1)])
def test_a_negative_duration_is_refused(given: object) -> None:
    with pytest.raises(ValidationError, match="not below 0"):
        HOURS.validate_python(given)


def test_a_duration_too_long_to_hold_is_refused() -> None:
    with pytest.raises(ValidationError, match="longer than a duration may be"):
        HOURS.validate_python("1e300")


def test_whole_days_refuse_a_fraction() -> None:
    with pytest.raises(ValidationError, match="expected a whole number of days"):
        WHOLE_DAYS.validate_python("1.5")


def test_a_duration_is_written_back_in_its_unit() -> None:
    assert HOURS.dump_python(timedelta(minutes=90)) == 1.5
    assert HOURS.dump_json(timedelta(hours=8)) == b"8.0"
    assert WHOLE_DAYS.dump_python(timedelta(days=365)) == 365
