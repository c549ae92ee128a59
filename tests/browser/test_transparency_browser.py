"""The public service figures on a phone, in Vietnamese and in English: the tables and
charts render, nothing is wider than the screen (areas and request types opened too),
and the console stays clean."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from outage.i18n import strings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

PHONE: ViewportSize = {"width": 360, "height": 740}

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const hidden = (e) => {
    for (let at = e; at; at = at.parentElement) {
      if (getComputedStyle(at).clipPath !== 'none') return true;
    }
    return false;
  };
  const wide = [...document.querySelectorAll('main *')]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && !hidden(e))
    .map((e) => e.tagName + (e.id ? '#' + e.id : ''));
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10)};
}"""


def _no_overflow(page: Page) -> None:
    """Nothing on the page reaches past the screen's right edge (but the tables' visually
    hidden header rows, clipped to nothing, which screen readers read)."""
    found = page.evaluate(OVERFLOW)
    assert found["scroll"] <= found["width"], found
    assert found["wide"] == [], found


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_figures_fit_a_phone_in_each_language(
    browser: Browser, live_server: str, screenshots: Path, language: str
) -> None:
    t = strings(language)
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        answer = page.goto(f"{live_server}/transparency?lang={language}")
        assert answer is not None and answer.status == 200
        assert page.inner_text("h1") == t["transparency_title"]
        assert page.get_attribute("html", "lang") == language
        system = page.locator("#system-table")
        assert system.is_visible()
        assert system.locator("tbody tr").count() == 12
        assert page.locator("#care-table tbody tr").count() >= 1
        assert page.locator("#saidi-chart svg[role=img]").is_visible()
        assert page.locator("#roots-link").get_attribute("href") == "/api/v1/transparency/roots"
        _no_overflow(page)
        page.screenshot(
            path=str(screenshots / f"transparency-phone-{language}.png"), full_page=True
        )

        for summary in page.locator("details > summary").all():
            summary.click()
        assert page.locator("details[open] table").count() == page.locator("details").count()
        _no_overflow(page)
        page.screenshot(
            path=str(screenshots / f"transparency-phone-{language}-open.png"), full_page=True
        )
        assert problems == []
    finally:
        context.close()
