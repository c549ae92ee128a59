"""A protective device's SCADA history as outages, by event time: pure, testable rules.

Telemetry arrives late, batched or out of order (historian backfill, a communications
outage, head-end batches), so the engine never reads a device's state off the latest
event it received. It sorts the device's events by when they happened and reads the
intervals the device was open from them; each interval is then either the incident
already open on the device (restored at the close's time), an incident already restored
that covers it (nothing to do: the next cycle sees the same events again), or an outage
nobody recorded (opened at the open's time and restored at the close's).
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from outage.intake.enums import SwitchState


@dataclass(frozen=True)
class SwitchEvent:
    id: int
    state: SwitchState
    at: datetime


@dataclass(frozen=True)
class Interval:
    """The device was open from `opened.at` until `closed_at` (None: still open).

    `opened` is None for a close whose open SCADA never sent (or sent before the events
    given): it restores an incident already open on the device, and records nothing.
    """

    opened: SwitchEvent | None
    closed_at: datetime | None


@dataclass(frozen=True)
class Known:
    """An incident on the device that was not cancelled."""

    id: int
    started_at: datetime
    restored_at: datetime | None
    """None while the incident is active."""


@dataclass(frozen=True)
class RestoreAt:
    """Restore the active incident at the close's time."""

    incident_id: int
    at: datetime


@dataclass(frozen=True)
class RecordPast:
    """An outage no incident tells of: open one at the open's time, restore it at the close's."""

    opened: SwitchEvent
    closed_at: datetime


Step = RestoreAt | RecordPast


def outage_intervals(events: Iterable[SwitchEvent]) -> list[Interval]:
    """The intervals the device was open, in event-time order (ties by arrival).

    A repeated open (or close) adds nothing, but a first close with no open before it is
    an interval of unknown start.
    """
    intervals: list[Interval] = []
    opened: SwitchEvent | None = None
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        if event.state is SwitchState.OPEN and opened is None:
            opened = event
        elif event.state is SwitchState.CLOSED and (opened is not None or not intervals):
            intervals.append(Interval(opened, event.at))
            opened = None
    if opened is not None:
        intervals.append(Interval(opened, None))
    return intervals


def closed_outages(
    intervals: Sequence[Interval], known: Iterable[Known], evidenced: Collection[int] = ()
) -> list[Step]:
    """What makes the device's incidents tell of every interval that ended.

    An active incident that started by the close's time is that interval's outage (its
    start may be earlier evidence, such as calls); a restored one overlapping the interval
    means it was recorded already. So does an open in `evidenced` (the events that are
    evidence of an incident, whatever its status): a cancelled or merged incident already
    told of it, and a dispatcher's "nothing found" stands.
    """
    active = sorted((k for k in known if k.restored_at is None), key=lambda k: k.started_at)
    restored = [(k.started_at, k.restored_at) for k in known if k.restored_at is not None]
    steps: list[Step] = []
    for interval in intervals:
        closed_at = interval.closed_at
        if closed_at is None:
            continue
        current = next((k for k in active if k.started_at <= closed_at), None)
        if current is not None:
            active.remove(current)
            restored.append((current.started_at, closed_at))
            steps.append(RestoreAt(current.id, closed_at))
        elif (
            interval.opened is not None
            and interval.opened.id not in evidenced
            and not _overlaps(restored, interval.opened.at, closed_at)
        ):
            steps.append(RecordPast(interval.opened, closed_at))
    return steps


def _overlaps(spans: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(since <= end and start <= until for since, until in spans)
