"""When a change of restoration time is told."""

from datetime import UTC, datetime, timedelta

from outage.notifications.etr_policy import NOTICE, ToldEtr, change_due, worth_telling

T = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)
CHANGE = timedelta(minutes=15)


def at(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


def test_a_small_shift_within_the_told_range_is_not_told() -> None:
    told = ToldEtr(at(60), at(90))
    assert not worth_telling(told, ToldEtr(at(70), at(90)), CHANGE)
    assert not worth_telling(told, ToldEtr(at(50), at(85)), CHANGE)


def test_a_later_deadline_is_told_however_small_the_change() -> None:
    told = ToldEtr(at(60), at(90))
    assert worth_telling(told, ToldEtr(at(65), at(95)), CHANGE)
    assert worth_telling(ToldEtr(at(60)), ToldEtr(at(61)), CHANGE)


def test_a_big_move_of_the_expected_time_is_told_even_earlier() -> None:
    assert worth_telling(ToldEtr(at(60), at(90)), ToldEtr(at(30), at(50)), CHANGE)


INTERVAL = timedelta(minutes=30)


def due(last: datetime | None, told: ToldEtr, new: ToldEtr, start: datetime = T) -> datetime:
    return change_due(start, last_due=last, interval=INTERVAL, told=told, new=new, change=CHANGE)


def test_a_big_change_waits_the_interval_after_the_last_message() -> None:
    told = ToldEtr(at(60), at(90))
    assert due(at(0), told, ToldEtr(at(120), at(150))) == at(30)
    assert due(None, told, ToldEtr(at(120), at(150))) == T
    assert due(at(0), told, ToldEtr(at(120), at(150)), start=at(40)) == at(40)


def test_the_wait_never_passes_the_told_deadline() -> None:
    told = ToldEtr(at(10), at(20))
    assert due(at(0), told, ToldEtr(at(60), at(90))) == at(20) - NOTICE


def test_a_small_later_change_waits_until_just_before_the_told_deadline() -> None:
    told = ToldEtr(at(60), at(90))
    assert due(None, told, ToldEtr(at(65), at(100))) == at(90) - NOTICE
    assert due(None, told, ToldEtr(at(65), at(100)), start=at(88)) == at(88)


def test_told_etr_reads_an_events_details() -> None:
    details = {"etr": at(60).isoformat(), "etr_latest": at(90).isoformat()}
    assert ToldEtr.of(details) == ToldEtr(at(60), at(90))
    assert ToldEtr.of({"etr": at(60).isoformat()}) == ToldEtr(at(60))
    assert ToldEtr.of({"etr": "yesterday"}) is None
    assert ToldEtr.of({}) is None
