"""The staff navigation bar in a real browser: a dispatcher lands on the dispatch map and
goes on to switching through the bar; on a phone the crew's bar wraps, never overflows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from outage.app import create_app
from outage.auth.enums import Role
from outage.i18n import strings
from outage.settings import Settings
from tests.conftest import STAFF_PASSWORD, Credentials, username

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CONTROL_ROOM: ViewportSize = {"width": 1600, "height": 900}
PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def nav_server(
    grid_database: str,
    credentials: Credentials,
    serve: Callable[[FastAPI], AbstractContextManager[str]],
) -> Iterator[str]:
    with serve(create_app(grid_database, Settings(map_tile_url=""))) as url:
        yield url


def sign_in(page: Page, server: str, role: Role) -> None:
    """Through the login page, with no page asking: to the role's landing page."""
    t = strings("en")
    page.goto(f"{server}/login?lang=en")
    page.get_by_label(t["login_username"]).fill(username(role))
    page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name=t["login_button"], exact=True).click()


def test_a_dispatcher_lands_on_dispatch_and_reaches_switching(
    browser: Browser, nav_server: str, screenshots: Path
) -> None:
    t = strings("en")
    context = browser.new_context(viewport=CONTROL_ROOM)
    try:
        page = context.new_page()
        missing: list[str] = []
        page.on(
            "response",
            lambda answer: missing.append(answer.url) if answer.status == 404 else None,
        )
        sign_in(page, nav_server, Role.DISPATCHER)
        assert urlsplit(page.url).path == "/dispatch"
        nav = page.locator("#staff-nav")
        assert nav.locator("[aria-current=page]").inner_text() == t["staff_nav_dispatch"]
        assert nav.locator("#nav-search").count() == 0, "no customer search for dispatchers"
        with page.expect_navigation():
            nav.get_by_role("link", name=t["switching_nav"]).click()
        assert urlsplit(page.url).path == "/switching"
        assert page.inner_text("h1") == t["switching_title"]
        assert page.locator("#staff-nav [aria-current=page]").inner_text() == t["switching_nav"]
        assert username(Role.DISPATCHER) in page.inner_text("#signed-in")
        page.screenshot(path=str(screenshots / "staff-nav-switching.png"))
        assert missing == [], "no page asks for what is not there (the icon included)"
    finally:
        context.close()


def test_the_crews_bar_fits_a_phone(browser: Browser, nav_server: str, screenshots: Path) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        sign_in(page, nav_server, Role.CREW)
        assert urlsplit(page.url).path == "/crew"
        assert page.locator("#staff-nav a").count() == 1
        assert page.locator("#sign-out").is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, "the bar wraps instead of widening the page"
        page.screenshot(path=str(screenshots / "staff-nav-crew-phone.png"), full_page=True)
    finally:
        context.close()
