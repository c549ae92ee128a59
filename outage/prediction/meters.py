"""Smart meters' histories as outages, by event time: pure, testable rules.

A premise's supply is read like a switch (`switching.py`): a last gasp opens it, power
restored closes it, so its events sorted by when they happened give the intervals it was
off, however the head-end delivered them. Those intervals restore the active incidents
whose meters all came back, and those no incident tells of (the restore arrived with, or
before, the last gasp) are grouped by overlap in time so that the engine can name the
device they share and record the outage nobody saw while it lasted. An interval of the
momentary limit or less is no outage: it is a momentary interruption, which the
reliability indices read from the meter events themselves (`outage.reliability.meters`).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from outage.incidents.lifecycle import is_momentary
from outage.intake.enums import MeterEventKind, SwitchState
from outage.prediction.switching import Interval, Known, SwitchEvent


def supply_event(event_id: int, kind: MeterEventKind, at: datetime) -> SwitchEvent:
    """A meter event as a change of the premise's supply: a last gasp opens it."""
    state = SwitchState.OPEN if kind is MeterEventKind.LAST_GASP else SwitchState.CLOSED
    return SwitchEvent(event_id, state, at)


@dataclass(frozen=True)
class Off:
    """A customer was off from `gasp.at` until `restored_at`, as their meter says."""

    account: str
    gasp: SwitchEvent
    restored_at: datetime

    @property
    def momentary(self) -> bool:
        """Back within the momentary limit: an interruption MAIFI counts, not an outage."""
        return is_momentary(self.gasp.at, self.restored_at)


def ended(meters: Mapping[str, Sequence[Interval]]) -> list[Off]:
    """Every interval a meter says ended, with the last gasp that began it."""
    return [
        Off(account, interval.opened, interval.closed_at)
        for account, intervals in meters.items()
        for interval in intervals
        if interval.opened is not None and interval.closed_at is not None
    ]


def unrecorded(offs: Iterable[Off], known: Mapping[str, Iterable[Known]]) -> list[Off]:
    """The intervals no incident over the customer (`known`, by account) overlaps in time:
    the next cycles see the same events again, and what is recorded is done."""
    return [
        off
        for off in offs
        if not any(_overlaps(k, off.gasp.at, off.restored_at) for k in known.get(off.account, ()))
    ]


def concurrent(offs: Iterable[Off]) -> list[list[Off]]:
    """The intervals grouped by overlap in time (a chain of overlaps is one group), earliest
    first: customers off together are evidence of one fault, at that past moment."""
    groups: list[list[Off]] = []
    until: datetime | None = None
    for off in sorted(offs, key=lambda o: (o.gasp.at, o.gasp.id)):
        if until is None or off.gasp.at > until:
            groups.append([])
            until = off.restored_at
        groups[-1].append(off)
        until = max(until, off.restored_at)
    return groups


def back_at(started_at: datetime, histories: Iterable[Sequence[Interval]]) -> datetime | None:
    """When the last of these customers' meters said power was back after `started_at`.

    None while one is still off, or when none of them was seen off: a power restored with no
    last gasp tells nothing of an outage found from calls, which evidence then cancels.
    """
    closes: list[datetime] = []
    gasped = False
    for intervals in histories:
        current = next(
            (i for i in intervals if i.closed_at is None or i.closed_at >= started_at), None
        )
        if current is None:
            continue
        if current.closed_at is None:
            return None
        closes.append(current.closed_at)
        gasped = gasped or current.opened is not None
    return max(closes) if gasped else None


def _overlaps(known: Known, start: datetime, end: datetime) -> bool:
    return known.started_at <= end and (known.restored_at is None or start <= known.restored_at)
