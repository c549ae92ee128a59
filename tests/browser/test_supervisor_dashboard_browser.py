"""The supervisor dashboard in a real browser: it signs in, charts render as SVG with
visible bars and points, a request past its target is listed, and nothing breaks CSP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from grid_topology.model import GridModel
from outage.auth.enums import Role
from outage.care import service
from outage.care.enums import RequestType
from outage.care.schemas import RequestIn
from outage.db import session_factory, session_scope
from outage.i18n import strings
from outage.settings import get_settings
from tests.conftest import STAFF_PASSWORD, Credentials, username

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize

DESKTOP: ViewportSize = {"width": 1366, "height": 900}
CUSTOMER_BAND = slice(1300, 1320)
"""The dashboard browser test files requests for these customers only."""


def _late_request(database_url: str, account: str) -> str:
    with session_scope(session_factory(database_url)) as session:
        return service.submit_request(
            session,
            RequestIn(type=RequestType.ELECTRICITY_SAFETY, account=account),
            settings=get_settings(),
            now=datetime.now(UTC) - timedelta(days=3),
        ).ticket


@pytest.mark.parametrize("language", ["vi", "en"])
def test_supervisor_sees_charts_and_the_requests_past_target(
    browser: Browser,
    live_server: str,
    sample_grid: GridModel,
    grid_database: str,
    credentials: Credentials,
    screenshots: Path,
    language: str,
) -> None:
    t = strings(language)
    premises = [p for p in sample_grid.premises[CUSTOMER_BAND] if p.customer is not None]
    customer = premises[0 if language == "vi" else 1].customer
    assert customer is not None
    late = _late_request(grid_database, customer.account)
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    try:
        page = context.new_page()
        problems: list[str] = []
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(f"{live_server}/supervisor?lang={language}")
        assert urlsplit(page.url).path == "/login"
        page.get_by_label(t["login_username"]).fill(username(Role.SUPERVISOR))
        page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name=t["login_button"], exact=True).click()
        assert urlsplit(page.url).path == "/supervisor"
        assert page.inner_text("h1") == t["supervisor_title"]

        ages = page.locator("#ages-chart svg[role=img]")
        assert ages.is_visible()
        assert ages.get_attribute("role") == "img"
        bars = page.locator("#ages-chart rect.bar")
        assert bars.count() == 5
        tallest = max(bars.nth(i).bounding_box()["height"] for i in range(5))  # type: ignore[index]
        assert tallest > 0, "open requests exist, so some bucket has a visible bar"
        saidi = page.locator("#saidi-chart svg[role=img]")
        assert saidi.is_visible()
        assert page.locator("#saidi-chart rect.bar").count() > 0
        assert page.locator("#saifi-chart polyline.line").count() == 1

        breached = page.locator("#breached-list")
        assert late in breached.inner_text()
        assert customer.account in breached.inner_text()
        page.screenshot(path=str(screenshots / f"supervisor-{language}.png"), full_page=True)

        assert all(url.startswith(live_server) for url in requested), "nothing from elsewhere"
        assert not problems, f"no CSP violation or script error: {problems}"
    finally:
        context.close()
