"""When a change of restoration time is worth a message, and when it goes out.

Customers mind a late restoration more than an early one, and a time that passes with
the power still off and nothing said most of all. A change that moves the expected time
enough is told (at most one message per interval). A smaller one that puts the deadline
later (the latest time of the range they were told, or the time itself without a range)
is told too, but only just before the deadline they hold would pass: a later change
folds into it, and a restoration first makes it moot. A smaller one that is earlier is
not told. No wait holds a message past the deadline told before it.

Pure: the fan-out uses it, and so does the restoration-time benchmark.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

NOTICE = timedelta(minutes=5)
"""A change goes out at the latest this long before the deadline customers were told."""


@dataclass(frozen=True)
class ToldEtr:
    expected: datetime
    latest: datetime | None = None

    @property
    def deadline(self) -> datetime:
        return self.latest or self.expected

    @classmethod
    def of(cls, details: Mapping[str, Any]) -> "ToldEtr | None":
        """From a notification event's details (`etr`, and `etr_latest` with a range)."""
        expected, latest = details.get("etr"), details.get("etr_latest")
        if not isinstance(expected, str):
            return None
        try:
            return cls(
                datetime.fromisoformat(expected),
                datetime.fromisoformat(latest) if isinstance(latest, str) else None,
            )
        except ValueError:
            return None


def _big(told: ToldEtr, new: ToldEtr, change: timedelta) -> bool:
    return abs(new.expected - told.expected) > change


def worth_telling(told: ToldEtr, new: ToldEtr, change: timedelta) -> bool:
    """Whether customers told `told` should hear of `new`."""
    return _big(told, new, change) or new.deadline > told.deadline


def change_due(
    start: datetime,
    *,
    last_due: datetime | None,
    interval: timedelta,
    told: ToldEtr | None,
    new: ToldEtr | None,
    change: timedelta,
) -> datetime:
    """When a change goes out, never before `start`: a big one `interval` after the last
    message with a time, a small later one just before the deadline told; either at the
    latest `NOTICE` before that deadline."""
    if told is None or new is None:
        return start if last_due is None else max(start, last_due + interval)
    deadline = told.deadline - NOTICE
    if not _big(told, new, change):
        return max(start, deadline)
    if last_due is None:
        return start
    return max(start, min(last_due + interval, deadline))
