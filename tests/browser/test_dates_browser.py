"""The pages' script writes a time exactly as the server does (`static/dates.js` against
`outage.i18n.dates`), in both languages, in and out of today and this year; and an ETR
with its range as `outage.i18n.times` does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from outage.i18n import LANGUAGES, Language, dates, times
from outage.web.rendering import STATIC_DIR

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
INSTANTS = [
    datetime(2026, 12, 6, 11, 30, tzinfo=UTC),
    datetime(2026, 12, 5, 16, 59, tzinfo=UTC),
    datetime(2026, 12, 5, 17, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 17, 5, tzinfo=UTC),
    datetime(2025, 12, 31, 16, 59, tzinfo=UTC),
    datetime(2025, 12, 31, 17, 0, tzinfo=UTC),
]
"""Today, the minute either side of local midnight, this year, either side of New Year."""


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_script_writes_times_as_the_server_does(browser: Browser, language: Language) -> None:
    page = browser.new_page()
    page.add_script_tag(path=str(STATIC_DIR / "dates.js"))
    style = dates.client_style(language, ZONE.key)
    written = page.evaluate(
        """([isos, style, now]) => isos.map((iso) => [
            OutageDates.dateTime(iso, style, now),
            OutageDates.time(iso, style),
            OutageDates.date(iso, style),
            OutageDates.dayTime(iso, style),
        ])""",
        [[moment.isoformat() for moment in INSTANTS], style, NOW.isoformat()],
    )
    page.close()
    expected = [
        [
            dates.moment_text(local, language, NOW),
            *(
                dates.write(local, form, language)
                for form in (dates.Form.TIME, dates.Form.DATE, dates.Form.DAY_TIME)
            ),
        ]
        for local in (moment.astimezone(ZONE) for moment in INSTANTS)
    ]
    assert written == expected


ETRS = [
    (INSTANTS[0], None, None),
    (
        INSTANTS[0],
        datetime(2026, 12, 6, 10, 45, tzinfo=UTC),
        datetime(2026, 12, 6, 12, 30, tzinfo=UTC),
    ),
    (
        INSTANTS[0],
        datetime(2026, 12, 6, 10, 45, tzinfo=UTC),
        datetime(2026, 12, 6, 18, 0, tzinfo=UTC),
    ),
    (
        INSTANTS[1],
        datetime(2026, 12, 5, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 5, 17, 30, tzinfo=UTC),
    ),
]
"""(expected, earliest, latest): a crew's time, a range within the day, one ending the next
day, and one starting the day before."""


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_script_writes_an_etrs_range_as_the_server_does(
    browser: Browser, language: Language
) -> None:
    page = browser.new_page()
    page.add_script_tag(path=str(STATIC_DIR / "dates.js"))
    style = dates.client_style(language, ZONE.key)
    written = page.evaluate(
        """([etrs, style, now]) => etrs.map(([etr, earliest, latest]) =>
            OutageDates.etr(etr, earliest, latest, style, now))""",
        [
            [[m.isoformat() if m else None for m in etr] for etr in ETRS],
            style,
            NOW.isoformat(),
        ],
    )
    page.close()
    assert written == [times.etr(*etr, language, ZONE, NOW) for etr in ETRS]
