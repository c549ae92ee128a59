"""The supervisor's live panel in a real browser: a supervisor signs in and lands on it,
it shows the figures of the moment, and it picks up a new outage without a reload."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from grid_topology.model import DeviceKind, GridModel
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.i18n import strings
from outage.incidents import live
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.schemas import IncidentPatch
from outage.pages import supervisor
from tests.conftest import STAFF_PASSWORD, Credentials, username

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

NEW_OUTAGE = 37
"""Customers the outage opened during the test puts out."""


@pytest.fixture
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """The panel asks every second, so the test need not wait half a minute."""
    monkeypatch.setattr(supervisor, "LIVE_REFRESH_S", 1)


@pytest.fixture
def new_outage(grid_database: str, sample_grid: GridModel) -> Iterator[Callable[[], int]]:
    """Opens an outage when called; cancelled afterwards, so it leaves nobody out."""
    opened: list[int] = []
    fuse = next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE)

    def open_() -> int:
        with session_scope(session_factory(grid_database)) as session:
            opened.append(
                open_incident(
                    session,
                    device_asset_ref=fuse,
                    confidence=0.9,
                    customers_affected=NEW_OUTAGE,
                    started_at=datetime.now(UTC) - timedelta(minutes=10),
                    reason="supervisor live panel test",
                )
            )
        return opened[-1]

    yield open_
    with session_scope(session_factory(grid_database)) as session:
        for incident in opened:
            patch = IncidentPatch.model_validate({"action": "cancel", "reason": "test over"})
            apply_action(session, incident, patch, "test")


def _customers_out(grid_database: str) -> int:
    with session_scope(session_factory(grid_database)) as session:
        return live.customers_out(session)


def _shown(page: Page) -> int:
    return int(page.inner_text('#live [data-live="customers_out"]').replace(",", ""))


def test_the_live_panel_shows_the_figures_and_refreshes_without_a_reload(
    browser: Browser,
    live_server: str,
    grid_database: str,
    credentials: Credentials,
    quick_refresh: None,
    new_outage: Callable[[], int],
) -> None:
    t = strings("en")
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(f"{live_server}/login?lang=en")
        page.get_by_label(t["login_username"]).fill(username(Role.SUPERVISOR))
        page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name=t["login_button"], exact=True).click()
        assert urlsplit(page.url).path == "/supervisor", "a supervisor lands on the dashboard"

        assert _shown(page) == _customers_out(grid_database)
        assert page.locator("#live-crews dd").count() == 3
        assert page.locator("#customers-out-chart polyline.line").count() == 1
        page.evaluate("window.loadedOnce = true")

        before = _shown(page)
        new_outage()
        # Not wait_for_function: it evaluates a string, which the pages' CSP forbids.
        from playwright.sync_api import expect

        expect(page.locator('#live [data-live="customers_out"]')).to_have_text(
            f"{before + NEW_OUTAGE:,}", timeout=10_000
        )
        assert page.evaluate("window.loadedOnce") is True, "refreshed in place, not reloaded"
        assert page.locator("#customers-out-chart circle.dot").count() > 1
        assert not problems, f"no CSP violation or script error: {problems}"
    finally:
        context.close()
