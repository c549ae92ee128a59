"""Helpers the pages share."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from outage.pages import i18n
from outage.pages.routes import local_moment
from outage.settings import get_settings


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OUTAGE_LOCAL_TIMEZONE", "Asia/Tokyo")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_local_moment_is_in_vietnam_time_by_default() -> None:
    shown = local_moment(datetime(2026, 3, 1, 17, 5, tzinfo=UTC), i18n.strings("vi"))
    assert shown == {"iso": "2026-03-02T00:05+07:00", "text": "00:05, 02/03/2026"}


@pytest.mark.usefixtures("tokyo")
def test_local_moment_follows_the_local_timezone_setting() -> None:
    shown = local_moment(datetime(2026, 3, 1, 17, 5, tzinfo=UTC), i18n.strings("vi"))
    assert shown["iso"] == "2026-03-02T02:05+09:00"


def test_local_moment_past_the_last_local_year_is_shown_in_utc() -> None:
    shown = local_moment(datetime(9999, 12, 31, 20, 0, tzinfo=UTC), i18n.strings("vi"))
    assert shown == {"iso": "9999-12-31T20:00+00:00", "text": "20:00, 31/12/9999"}
