"""Meters' events read as the intervals customers were off, by event time."""

from datetime import UTC, datetime, timedelta

from outage.intake.enums import MeterEventKind, SwitchState
from outage.prediction.meters import Off, back_at, concurrent, ended, supply_event, unrecorded
from outage.prediction.switching import Interval, Known, SwitchEvent

T0 = datetime(2025, 3, 10, 8, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def gasp(id_: int, minutes: int) -> SwitchEvent:
    return SwitchEvent(id_, SwitchState.OPEN, at(minutes))


def off(account: str, id_: int, since: int, until: int) -> Off:
    return Off(account, gasp(id_, since), at(until))


def test_a_last_gasp_opens_the_supply_and_power_restored_closes_it() -> None:
    assert supply_event(1, MeterEventKind.LAST_GASP, at(0)).state is SwitchState.OPEN
    assert supply_event(2, MeterEventKind.POWER_RESTORED, at(5)).state is SwitchState.CLOSED


def test_only_intervals_with_their_last_gasp_and_restoration_have_ended() -> None:
    meters = {
        "A1": [Interval(gasp(1, 0), at(40))],
        "A2": [Interval(None, at(40))],
        "A3": [Interval(gasp(3, 0), None)],
    }
    assert ended(meters) == [off("A1", 1, 0, 40)]


def test_back_within_five_minutes_is_momentary_and_after_six_sustained() -> None:
    assert off("A1", 1, 0, 5).momentary
    assert not off("A1", 1, 0, 6).momentary


def test_an_interval_an_incident_over_the_customer_overlaps_is_recorded() -> None:
    known = {"A1": [Known(9, at(0), at(40))], "A2": [Known(9, at(0), at(40))]}
    assert unrecorded([off("A1", 1, 0, 40), off("A2", 2, 50, 60)], known) == [off("A2", 2, 50, 60)]


def test_an_active_incident_that_started_by_the_restoration_covers_the_interval() -> None:
    assert unrecorded([off("A1", 1, 0, 40)], {"A1": [Known(9, at(10), None)]}) == []


def test_customers_off_at_overlapping_times_are_one_group() -> None:
    offs = [off("A1", 1, 0, 40), off("A2", 2, 30, 50), off("B1", 3, 60, 70)]
    assert concurrent(offs) == [offs[:2], offs[2:]]


def test_the_incident_is_back_at_the_last_meter_to_restore() -> None:
    histories = [[Interval(gasp(1, 0), at(40))], [Interval(gasp(2, 0), at(45))]]
    assert back_at(at(0), histories) == at(45)


def test_an_incident_is_not_back_while_one_meter_is_still_off() -> None:
    histories = [[Interval(gasp(1, 0), at(40))], [Interval(gasp(2, 0), None)]]
    assert back_at(at(0), histories) is None


def test_a_restoration_before_the_incident_started_is_not_its_end() -> None:
    histories = [[Interval(gasp(1, 0), at(5)), Interval(gasp(2, 20), None)]]
    assert back_at(at(20), histories) is None


def test_power_restored_with_no_last_gasp_does_not_restore_an_incident() -> None:
    assert back_at(at(0), [[Interval(None, at(40))]]) is None
