"""A device's SCADA events read as outage intervals, by event time."""

from datetime import UTC, datetime, timedelta

from outage.intake.enums import SwitchState
from outage.prediction.switching import (
    Interval,
    Known,
    RecordPast,
    RestoreAt,
    SwitchEvent,
    closed_outages,
    outage_intervals,
)

T0 = datetime(2025, 3, 10, 8, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def opened(id_: int, minutes: int) -> SwitchEvent:
    return SwitchEvent(id_, SwitchState.OPEN, at(minutes))


def closed(id_: int, minutes: int) -> SwitchEvent:
    return SwitchEvent(id_, SwitchState.CLOSED, at(minutes))


def test_events_are_read_in_event_time_not_arrival_order() -> None:
    assert outage_intervals([closed(1, 70), opened(2, 0)]) == [Interval(opened(2, 0), at(70))]


def test_an_open_with_no_close_is_an_interval_still_open() -> None:
    assert outage_intervals([opened(1, 0)]) == [Interval(opened(1, 0), None)]


def test_a_device_opening_and_closing_twice_has_two_intervals() -> None:
    events = [opened(1, 0), closed(2, 10), opened(3, 20), closed(4, 25)]
    assert outage_intervals(events) == [
        Interval(opened(1, 0), at(10)),
        Interval(opened(3, 20), at(25)),
    ]


def test_a_repeated_open_keeps_the_first() -> None:
    assert outage_intervals([opened(1, 0), opened(2, 5), closed(3, 9)]) == [
        Interval(opened(1, 0), at(9))
    ]


def test_a_close_with_no_open_before_it_has_an_unknown_start() -> None:
    assert outage_intervals([closed(1, 5), closed(2, 9)]) == [Interval(None, at(5))]


def test_an_interval_nobody_recorded_is_recorded_with_its_true_times() -> None:
    interval = Interval(opened(1, 0), at(70))
    assert closed_outages([interval], []) == [RecordPast(opened(1, 0), at(70))]


def test_the_active_incident_is_restored_at_the_close() -> None:
    interval = Interval(opened(1, 0), at(70))
    assert closed_outages([interval], [Known(9, at(0), None)]) == [RestoreAt(9, at(70))]


def test_an_interval_a_restored_incident_covers_is_done() -> None:
    interval = Interval(opened(1, 0), at(70))
    assert closed_outages([interval], [Known(9, at(0), at(70))]) == []


def test_an_interval_whose_open_is_evidence_of_an_incident_is_done() -> None:
    interval = Interval(opened(1, 0), at(70))
    assert closed_outages([interval], [], evidenced={1}) == []


def test_an_incident_that_started_after_the_close_is_not_restored_by_it() -> None:
    first = Interval(opened(1, 0), at(10))
    steps = closed_outages([first, Interval(opened(3, 20), None)], [Known(9, at(20), None)])
    assert steps == [RecordPast(opened(1, 0), at(10))]


def test_a_close_of_unknown_start_restores_but_never_records() -> None:
    interval = Interval(None, at(30))
    assert closed_outages([interval], []) == []
    assert closed_outages([interval], [Known(9, at(5), None)]) == [RestoreAt(9, at(30))]
