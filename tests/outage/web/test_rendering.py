"""Pages' local times: in the utility's zone, or in UTC at the calendar's edge."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from outage.i18n import Language
from outage.settings import Settings
from outage.web.rendering import local_moment

DEFAULT_ZONE = Settings.model_fields["local_timezone"].default
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def test_local_moment_is_in_vietnam_time_by_default() -> None:
    shown = local_moment(datetime(2026, 3, 1, 17, 5, tzinfo=UTC), Language.VI, DEFAULT_ZONE, NOW)
    assert shown == {"iso": "2026-03-02T00:05+07:00", "text": "00:05 ngày 02/03"}


def test_local_moment_follows_the_zone_it_is_given() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    shown = local_moment(datetime(2026, 3, 1, 17, 5, tzinfo=UTC), Language.VI, tokyo, NOW)
    assert shown["iso"] == "2026-03-02T02:05+09:00"


def test_local_moment_past_the_last_local_year_is_shown_in_utc() -> None:
    shown = local_moment(datetime(9999, 12, 31, 20, 0, tzinfo=UTC), Language.VI, DEFAULT_ZONE, NOW)
    assert shown == {"iso": "9999-12-31T20:00+00:00", "text": "20:00 ngày 31/12/9999"}
