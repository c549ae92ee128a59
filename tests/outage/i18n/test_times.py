"""An ETR is written as its expected time and, when it has one, the range it likely falls
in; a crew's own time alone. Moments by the page's rule, or a message's."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from outage.i18n import Language, times

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
"""11:00 on 6 December 2026 in Hanoi."""
EXPECTED = datetime(2026, 12, 6, 11, 30, tzinfo=UTC)
"""18:30 in Hanoi."""
EARLIEST = datetime(2026, 12, 6, 10, 45, tzinfo=UTC)
LATEST = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (Language.EN, "18:30 (likely between 17:45 and 19:30)"),
        (Language.VI, "18:30 (nhiều khả năng trong khoảng 17:45 đến 19:30)"),
    ],
)
def test_an_etr_with_a_range_says_the_range(language: Language, text: str) -> None:
    assert times.etr(EXPECTED, EARLIEST, LATEST, language, ZONE, NOW) == text


@pytest.mark.parametrize("language", [Language.EN, Language.VI])
def test_an_etr_without_a_range_is_its_time_alone(language: Language) -> None:
    assert times.etr(EXPECTED, None, None, language, ZONE, NOW) == "18:30"


def test_a_message_names_the_day_once() -> None:
    text = times.etr(EXPECTED, EARLIEST, LATEST, Language.EN, ZONE)
    assert text == "18:30 on 6 Dec (likely between 17:45 and 19:30)"


def test_an_end_on_another_day_is_written_with_its_day() -> None:
    next_morning = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    text = times.etr(EXPECTED, EARLIEST, next_morning, Language.EN, ZONE, NOW)
    assert text == "18:30 (likely between 17:45 and 01:00 on 7 Dec)"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (Language.EN, "18:30 on 6 Dec (17:45-19:30)"),
        (Language.VI, "18:30 ngày 06/12 (17:45-19:30)"),
    ],
)
def test_a_short_etr_keeps_the_range_in_few_words(language: Language, text: str) -> None:
    assert times.etr(EXPECTED, EARLIEST, LATEST, language, ZONE, short=True) == text


def test_an_end_on_another_day_than_the_etrs_is_never_its_time_alone() -> None:
    late = datetime(2026, 12, 5, 16, 59, tzinfo=UTC)  # 23:59 yesterday
    text = times.etr(late, late, NOW - timedelta(hours=3), Language.EN, ZONE, NOW)
    assert text == "23:59 on 5 Dec (likely between 23:59 and 08:00 on 6 Dec)"


def test_a_range_of_one_moment_is_no_range() -> None:
    assert times.etr(EXPECTED, EXPECTED, EXPECTED, Language.EN, ZONE, NOW) == "18:30"


@pytest.mark.parametrize(("now", "text"), [(NOW, "18:30"), (None, "18:30 on 6 Dec")])
def test_a_moment_is_written_by_the_pages_rule_or_the_messages(
    now: datetime | None, text: str
) -> None:
    assert times.when(EXPECTED, Language.EN, ZONE, now) == text
