"""Durations given as a number of some unit (as the environment gives them), held as
`timedelta`s.

A field typed `Hours` reads `8` (or `"8"`, as an environment variable holds it) as eight
hours and writes eight hours back as `8.0`; a `timedelta` is taken as it is. A value that
is not a finite number is refused, and so is a negative one: nothing waits a negative
time. Fields refuse zero themselves where it means nothing (`Field(gt=NO_TIME)`).
"""

import math
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

NO_TIME = timedelta(0)


def _number(value: object, unit: str, *, whole: bool) -> float:
    """The value as a finite, non-negative number of `unit`; ValueError if it is not one."""
    kind = f"a whole number of {unit}" if whole else f"a number of {unit}"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected {kind}, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"expected {kind}, got {value!r}") from None
    if not math.isfinite(number) or (whole and not number.is_integer()):
        raise ValueError(f"expected {kind}, got {value!r}")
    if number < 0:
        raise ValueError(f"expected {kind} not below 0, got {value!r}")
    return number


def _read(unit: str, *, whole: bool = False) -> BeforeValidator:
    """Takes a number of `unit` (or a `timedelta`) for the duration."""

    def read(value: object) -> object:
        if isinstance(value, timedelta):
            if value < NO_TIME:
                raise ValueError(f"expected a duration not below 0, got {value}")
            return value
        number = _number(value, unit, whole=whole)
        try:
            return timedelta(**{unit: number})
        except OverflowError:
            raise ValueError(f"{value!r} {unit} is longer than a duration may be") from None

    return BeforeValidator(read)


def _write(unit: str, *, whole: bool = False) -> PlainSerializer:
    """Gives the duration back as a number of `unit`, as it was read."""
    one = timedelta(**{unit: 1})

    def write(duration: timedelta) -> float:
        return duration // one if whole else duration / one

    return PlainSerializer(write, return_type=int if whole else float)


Seconds = Annotated[timedelta, _read("seconds"), _write("seconds")]
"""A duration given in seconds."""
Minutes = Annotated[timedelta, _read("minutes"), _write("minutes")]
"""A duration given in minutes."""
Hours = Annotated[timedelta, _read("hours"), _write("hours")]
"""A duration given in hours."""
Days = Annotated[timedelta, _read("days"), _write("days")]
"""A duration given in days."""
WholeDays = Annotated[timedelta, _read("days", whole=True), _write("days", whole=True)]
"""A duration given in whole days."""
