"""The agent console in a real browser at a desktop's size: find the caller, log the call."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from grid_topology.model import GridModel
from outage.auth.enums import Role
from outage.care.enums import RequestType
from outage.care.service import is_request_ticket
from outage.db import session_factory
from outage.i18n import strings
from outage.intake.enums import Channel, Hazard
from outage.intake.models import Report
from tests.conftest import STAFF_PASSWORD, Credentials, username

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize

DESKTOP: ViewportSize = {"width": 1366, "height": 900}
TICKET = re.compile(r"^\d{6}-[2-9A-HJ-NP-Z]{5}$")

CUSTOMER_BAND = slice(1080, 1100)
"""The agent browser test reports for these customers only (the agent console tests take
1000-1080); a report of ours would make another test's a duplicate."""


@pytest.mark.parametrize("language", ["vi", "en"])
def test_agent_finds_a_caller_by_phone_and_logs_the_call(
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
    premise = premises[0 if language == "vi" else 1]
    customer = premise.customer
    assert customer is not None
    national = "0" + customer.phone.removeprefix("+84")
    typed = f"{national[:4]}.{national[4:7]}.{national[7:]}"
    description = f"agent browser test {language} {uuid.uuid4()}"
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    try:
        page = context.new_page()
        requested: list[str] = []
        problems: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.on(
            "response",
            lambda answer: (
                problems.append(f"{answer.status} {answer.url}")
                if answer.status >= 400 and not answer.url.endswith("/favicon.ico")
                else None
            ),
        )
        # Signed out, the console sends the agent to sign in, and back to it after.
        page.goto(f"{live_server}/agent?lang={language}")
        assert urlsplit(page.url).path == "/login"
        assert page.inner_text("h1") == t["login_title"]
        page.screenshot(path=str(screenshots / f"login-{language}.png"))
        page.get_by_label(t["login_username"]).fill(username(Role.AGENT))
        page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
        with page.expect_navigation() as signed_in:
            page.get_by_role("button", name=t["login_button"], exact=True).click()
        response = signed_in.value
        assert response is not None
        assert (urlsplit(page.url).path, urlsplit(page.url).query) == ("/agent", f"lang={language}")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert username(Role.AGENT) in page.inner_text("#signed-in")
        assert page.get_attribute("html", "lang") == language
        assert page.inner_text("h1") == t["agent_search_title"]

        page.get_by_label(t["agent_search_field"]).fill(typed)
        with page.expect_navigation():
            page.get_by_role("button", name=t["agent_search_button"], exact=True).click()
        card = page.locator("#customer-1")
        assert customer.name in card.inner_text()
        assert premise.address in card.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]

        page.fill("#log-1-description", description)
        page.select_option("#log-1-hazard", Hazard.WIRES_DOWN.value)
        with page.expect_navigation():
            page.click("#log-1-submit")

        assert page.inner_text("#confirmation-title") == t["agent_logged"]
        ticket = page.inner_text("#confirmation-ticket")
        assert TICKET.match(ticket)
        assert ticket in page.inner_text("#customer-1 .open-reports")

        # The same caller also asks for a meter check: a service request, on their card.
        page.select_option("#request-1-type", RequestType.METER_CHECK.value)
        page.fill("#request-1-description", description)
        with page.expect_navigation():
            page.click("#request-1-submit")
        assert page.inner_text("#confirmation-title") == t["agent_request_logged"]
        request_ticket = page.inner_text("#confirmation-ticket")
        assert is_request_ticket(request_ticket)
        assert request_ticket in page.inner_text("#customer-1 .open-requests")
        assert page.locator("#customer-1 h3", has_text=t["agent_active_outages"]).is_visible()
        page.screenshot(path=str(screenshots / f"agent-console-{language}.png"), full_page=True)

        with session_factory(grid_database)() as session:
            [stored] = session.scalars(select(Report).where(Report.description == description))
        assert stored.ticket == ticket
        assert stored.channel is Channel.AGENT
        assert stored.hazard is Hazard.WIRES_DOWN
        assert all(url.startswith(live_server) for url in requested), "nothing from elsewhere"
        assert not problems, f"no CSP violation, script error or failed load: {problems}"

        # Signing out ends the session: the console asks for a sign-in again.
        with page.expect_navigation():
            page.get_by_role("button", name=t["sign_out"], exact=True).click()
        assert urlsplit(page.url).path == "/login"
        page.goto(f"{live_server}/agent?lang={language}")
        assert urlsplit(page.url).path == "/login"
    finally:
        context.close()
