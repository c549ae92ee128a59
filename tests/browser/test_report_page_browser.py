"""The report page in a real browser at a phone's size: report, locate, follow the ticket."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from grid_topology.model import GridModel, Premise
from outage.db import session_factory
from outage.i18n import strings
from outage.intake.enums import ReportStatus
from outage.intake.models import Report

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

PHONE: ViewportSize = {"width": 390, "height": 844}
TICKET = re.compile(r"^\d{6}-[2-9A-HJ-NP-Z]{5}$")
LOCALES = {"vi": "vi-VN", "en": "en-US"}


CUSTOMER_BAND = slice(880, 900)
"""The browser tests report for these customers only. Other tests walk the customer list
from either end (and the pages tests take the band just before this one); a report of
ours would make theirs a duplicate."""


def _premise(sample_grid: GridModel, index: int) -> Premise:
    premises = [p for p in sample_grid.premises[CUSTOMER_BAND] if p.customer is not None]
    return premises[index]


def _phone_context(browser: Browser, language: str, **options: Any) -> BrowserContext:
    return browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale=LOCALES[language],
        **options,
    )


def _stored(database_url: str, description: str) -> int:
    with session_factory(database_url)() as session:
        found = session.scalar(
            select(func.count()).select_from(Report).where(Report.description == description)
        )
        return int(found or 0)


def _assert_fits_a_phone(page: Page, *tap_targets: str) -> None:
    """No sideways scrolling at a phone's width, and fingers can hit what matters."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for selector in ("#switch-language", "a.next", *tap_targets):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 44, f"{selector} is a large tap target"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_report_from_a_phone_with_location(
    browser: Browser,
    live_server: str,
    sample_grid: GridModel,
    grid_database: str,
    screenshots: Path,
    language: str,
) -> None:
    t = strings(language)
    premise = _premise(sample_grid, 0 if language == "vi" else 1)
    assert premise.customer is not None
    lon, lat = premise.location
    description = f"browser test {language} {uuid.uuid4()}"
    context = _phone_context(
        browser,
        language,
        geolocation={"latitude": lat, "longitude": lon, "accuracy": 25},
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{live_server}/report?lang={language}")
        assert page.get_attribute("html", "lang") == language
        assert page.inner_text("h1") == t["report_title"]
        _assert_fits_a_phone(page, "#submit", "#account", "#locate", "#hazard")

        page.get_by_role("button", name=t["location_button"]).click()
        # Not wait_for_function: it evaluates a string, which the pages' CSP forbids.
        from playwright.sync_api import expect

        expect(page.locator("#lat")).not_to_have_value("")
        assert float(page.input_value("#lat")) == pytest.approx(lat, abs=1e-6)
        assert float(page.input_value("#lon")) == pytest.approx(lon, abs=1e-6)
        assert page.inner_text("#location-status") == t["location_found"].format(accuracy=25)

        page.fill("#account", premise.customer.account)
        page.fill("#description", description)
        page.screenshot(path=str(screenshots / f"report-{language}.png"), full_page=True)
        with page.expect_navigation():
            page.click("#submit")

        assert re.search(rf"/status/[^/?]+\?lang={language}$", page.url)
        assert page.get_attribute("html", "lang") == language
        assert page.inner_text("h1") == t["status_title"]
        assert TICKET.match(page.inner_text("#ticket"))
        page.fill("#prove-digits", premise.customer.phone[-4:])
        with page.expect_navigation():
            page.click("#prove")
        assert page.inner_text("#status-text") in {t[f"report_status.{s}"] for s in ReportStatus}
        _assert_fits_a_phone(page, "#lookup-ticket", "form.lookup button")
        page.screenshot(path=str(screenshots / f"status-{language}.png"), full_page=True)
        assert _stored(grid_database, description) == 1
        assert all(url.startswith(live_server) for url in requested), "nothing from elsewhere"
    finally:
        context.close()


def test_denied_location_says_so_and_the_form_still_works(
    browser: Browser, live_server: str, sample_grid: GridModel, grid_database: str
) -> None:
    t = strings("en")
    premise = _premise(sample_grid, 2)
    assert premise.customer is not None
    context = _phone_context(browser, "en")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/report?lang=en")
        page.click("#locate")
        status = page.locator("#location-status")
        status.filter(has_text=t["location_denied"]).wait_for()
        assert page.input_value("#lat") == ""

        description = f"browser test denied {uuid.uuid4()}"
        page.fill("#address", premise.address or "")
        page.fill("#account", premise.customer.account)
        page.fill("#description", description)
        with page.expect_navigation():
            page.click("#submit")
        assert page.inner_text("h1") == t["status_title"]
        assert _stored(grid_database, description) == 1
    finally:
        context.close()


def test_double_tap_on_send_makes_one_report(
    browser: Browser, live_server: str, sample_grid: GridModel, grid_database: str
) -> None:
    premise = _premise(sample_grid, 3)
    assert premise.customer is not None
    description = f"browser test double tap {uuid.uuid4()}"
    context = _phone_context(browser, "vi")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/report")
        page.fill("#account", premise.customer.account)
        page.fill("#description", description)
        with page.expect_navigation():
            page.dblclick("#submit")
        assert page.inner_text("h1") == strings("vi")["status_title"]
        assert _stored(grid_database, description) == 1
    finally:
        context.close()


def test_the_form_works_without_javascript(
    browser: Browser, live_server: str, sample_grid: GridModel, grid_database: str
) -> None:
    t = strings("en")
    premise = _premise(sample_grid, 4)
    assert premise.customer is not None
    description = f"browser test no script {uuid.uuid4()}"
    context = _phone_context(browser, "en", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/report?lang=en")
        assert not page.is_visible("#locate"), "no location button without a script"
        assert t["location_no_script"] in page.inner_text("main")
        page.fill("#phone", "12")
        page.fill("#description", description)
        with page.expect_navigation():
            page.click("#submit")
        assert t["error_phone"] in page.inner_text("#errors")
        assert page.input_value("#description") == description

        page.fill("#phone", "")
        page.fill("#account", premise.customer.account)
        with page.expect_navigation():
            page.click("#submit")
        assert page.inner_text("h1") == t["status_title"]
        ticket = page.inner_text("#ticket")

        page.fill("#lookup-ticket", ticket.lower())
        with page.expect_navigation():
            page.click("form.lookup button")
        assert page.inner_text("#ticket") == ticket
        assert _stored(grid_database, description) == 1
    finally:
        context.close()
