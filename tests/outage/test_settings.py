"""Settings read from the environment."""

from zoneinfo import ZoneInfo

import pytest

from outage.settings import Settings


def test_local_time_is_vietnam_unless_configured() -> None:
    assert Settings().local_zone == ZoneInfo("Asia/Ho_Chi_Minh")


def test_local_timezone_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_LOCAL_TIMEZONE", "Asia/Tokyo")
    assert Settings().local_zone == ZoneInfo("Asia/Tokyo")
