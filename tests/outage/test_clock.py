"""The service's clock: the wall clock, or a scaled one from the settings."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from outage import clock
from outage.clock import Clock, scaled
from outage.settings import Settings, get_settings

EPOCH = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_the_scaled_time_at_the_epoch_is_the_epoch() -> None:
    assert scaled(EPOCH, epoch=EPOCH, speed=30) == EPOCH


def test_a_wall_minute_after_the_epoch_is_speed_minutes_on_the_scaled_clock() -> None:
    wall = EPOCH + timedelta(minutes=1)
    assert scaled(wall, epoch=EPOCH, speed=30) == EPOCH + timedelta(minutes=30)


def test_a_slower_clock_falls_behind_the_wall() -> None:
    wall = EPOCH + timedelta(hours=2)
    assert scaled(wall, epoch=EPOCH, speed=0.5) == EPOCH + timedelta(hours=1)


def test_without_an_epoch_the_clock_is_the_wall_clock() -> None:
    before = datetime.now(UTC)
    assert before <= Clock().now() <= datetime.now(UTC)


def test_a_scaled_clock_runs_ahead_of_the_wall_after_its_epoch() -> None:
    epoch = datetime.now(UTC) - timedelta(minutes=2)
    assert Clock(epoch, 30).now() >= epoch + timedelta(minutes=60)


def test_a_scaled_clock_answers_in_utc() -> None:
    epoch = datetime.now(UTC).astimezone(Settings().local_timezone)
    assert Clock(epoch, 30).now().tzinfo is UTC


def test_a_wall_span_is_stretched_by_the_speed() -> None:
    assert Clock(EPOCH, 30).span(timedelta(seconds=120)) == timedelta(hours=1)


@pytest.mark.parametrize("speed", [0, -1, 1001])
def test_a_speed_out_of_bounds_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        Clock(EPOCH, speed)


def test_a_naive_epoch_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        Clock(datetime(2026, 7, 1, 8, 0), 30)


def test_a_faster_clock_without_an_epoch_is_refused() -> None:
    with pytest.raises(ValueError, match="epoch"):
        Clock(None, 30)


def test_another_process_is_given_the_same_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in Clock(EPOCH, 30).environment().items():
        monkeypatch.setenv(name, value)
    assert Clock.of(Settings()) == Clock(EPOCH, 30)


def test_the_settings_refuse_a_naive_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_CLOCK_EPOCH", "2026-07-01T08:00:00")
    with pytest.raises(ValidationError, match="clock_epoch"):
        Settings()


def test_the_settings_refuse_a_speed_without_an_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_CLOCK_SPEED", "30")
    with pytest.raises(ValidationError, match="clock_epoch"):
        Settings()


def test_now_follows_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    epoch = datetime.now(UTC) - timedelta(minutes=1)
    monkeypatch.setenv("OUTAGE_CLOCK_EPOCH", epoch.isoformat())
    monkeypatch.setenv("OUTAGE_CLOCK_SPEED", "60")
    get_settings.cache_clear()
    try:
        assert clock.now() >= epoch + timedelta(minutes=60)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
