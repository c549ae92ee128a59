"""One way to write a time per language: today's by its time, this year's with its day,
another year's with the year; messages always with the day."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from outage.i18n import Language, dates

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
"""11:00 on 6 December 2026 in Hanoi."""

SAMPLES = [
    (datetime(2026, 12, 6, 11, 30, tzinfo=UTC), Language.VI, "18:30"),
    (datetime(2026, 12, 6, 11, 30, tzinfo=UTC), Language.EN, "18:30"),
    (datetime(2026, 3, 1, 17, 5, tzinfo=UTC), Language.VI, "00:05 ngày 02/03"),
    (datetime(2026, 3, 1, 17, 5, tzinfo=UTC), Language.EN, "00:05 on 2 Mar"),
    (datetime(2025, 12, 31, 18, 0, tzinfo=UTC), Language.VI, "01:00 ngày 01/01"),
    (datetime(2025, 12, 31, 16, 59, tzinfo=UTC), Language.VI, "23:59 ngày 31/12/2025"),
    (datetime(2025, 12, 31, 16, 59, tzinfo=UTC), Language.EN, "23:59 on 31 Dec 2025"),
]
"""Instants and how a page writes them at NOW; `tests/browser/test_dates.py` checks the
pages' script writes the same."""


@pytest.mark.parametrize(("moment", "language", "text"), SAMPLES)
def test_a_page_writes_a_moment_by_how_far_it_is_from_today(
    moment: datetime, language: Language, text: str
) -> None:
    assert dates.moment_text(moment.astimezone(ZONE), language, NOW) == text


def test_midnight_in_the_utilitys_zone_starts_a_new_day() -> None:
    yesterday = datetime(2026, 12, 5, 16, 59, tzinfo=UTC).astimezone(ZONE)
    assert dates.moment_text(yesterday, Language.EN, NOW) == "23:59 on 5 Dec"


@pytest.mark.parametrize(
    ("language", "text"), [(Language.VI, "18:30 ngày 06/12"), (Language.EN, "18:30 on 6 Dec")]
)
def test_a_message_always_names_the_day(language: Language, text: str) -> None:
    today = datetime(2026, 12, 6, 11, 30, tzinfo=UTC).astimezone(ZONE)
    assert dates.write(today, dates.Form.DAY_TIME, language) == text


@pytest.mark.parametrize(
    ("language", "text"), [(Language.VI, "06/12/2026"), (Language.EN, "6 Dec 2026")]
)
def test_a_date_is_written_with_its_year(language: Language, text: str) -> None:
    day = datetime(2026, 12, 6, 11, 30, tzinfo=UTC).astimezone(ZONE)
    assert dates.write(day, dates.Form.DATE, language) == text


def test_a_script_gets_the_zone_and_the_patterns() -> None:
    style = dates.client_style(Language.EN, "Asia/Ho_Chi_Minh")
    assert style["zone"] == "Asia/Ho_Chi_Minh"
    assert style["patterns"]["day_time"] == "%H:%M on %-d %b"
    assert style["months"][11] == "Dec"
