"""The crew page in a real browser on a phone's screen: sign in, see the job, report on it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import text

from grid_topology.model import DeviceKind, GridModel
from outage.auth import service as auth
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.i18n import Language
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.enums import Action
from outage.incidents.schemas import IncidentPatch
from outage.pages.crew import strings as crew_strings
from tests.conftest import STAFF_PASSWORD, make_crew

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize

PHONE: ViewportSize = {"width": 360, "height": 740}


def _crew_with_a_job(database_url: str, device: str) -> tuple[str, int, int]:
    """A crew on shift, a member of it (their username), and an outage assigned to it."""
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    with session_scope(session_factory(database_url)) as session:
        crew_id = make_crew(session, f"browser crew {tag}")
        user = f"crew-browser-{tag}"
        auth.create_user(
            session, username=user, password=STAFF_PASSWORD, role=Role.CREW, crew_id=crew_id
        )
        incident = open_incident(
            session,
            device_asset_ref=device,
            confidence=0.9,
            customers_affected=17,
            started_at=now - timedelta(minutes=20),
            reason="crew browser test",
        )
        apply_action(
            session, incident, IncidentPatch(action=Action.ASSIGN, crew_id=crew_id), "test"
        )
    return user, crew_id, incident


def _status(database_url: str, incident: int) -> tuple[str, str | None]:
    with session_scope(session_factory(database_url)) as session:
        status, cause = session.execute(
            text("SELECT status, cause FROM incidents WHERE id = :id"), {"id": incident}
        ).one()
    return str(status), cause


def test_a_crew_member_marks_a_job_on_site_then_restored_on_a_phone(
    browser: Browser,
    live_server: str,
    grid_database: str,
    sample_grid: GridModel,
    screenshots: Path,
) -> None:
    fuse = [d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE][2]
    user, crew_id, incident = _crew_with_a_job(grid_database, fuse)
    t = crew_strings(Language.EN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
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
        page.goto(f"{live_server}/crew?lang=en")
        assert urlsplit(page.url).path == "/login"
        page.get_by_label(t["login_username"]).fill(user)
        page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name=t["login_button"], exact=True).click()
        assert urlsplit(page.url).path == "/crew"

        card = page.locator(f"#job-{incident}")
        card.wait_for()
        assert fuse in card.inner_text()
        assert "17" in card.locator(".customers").inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide on a 360 px screen"
        on_site = card.get_by_role("button", name=t["crew_on_site"], exact=True)
        box = on_site.bounding_box()
        assert box is not None and box["height"] >= 44
        page.screenshot(path=str(screenshots / "crew-job.png"), full_page=True)

        on_site.tap()
        card.locator(".job-message", has_text=t["crew_sent"]).wait_for()
        assert card.locator("form.restore").is_visible()
        assert _status(grid_database, incident)[0] == "on_site"

        card.locator("select[name=cause]").select_option("tree_contact")
        card.locator("textarea[name=notes]").fill("cut the branch, <b>replaced</b> the fuse")
        card.get_by_role("button", name=t["crew_send_restored"], exact=True).tap()
        card.locator(".job-status", has_text=t["crew_state.restored"]).wait_for()
        page.wait_for_function(
            "key => JSON.parse(localStorage.getItem(key) || '[]').length === 0",
            arg=f"outage-crew-queue-{crew_id}",
        )
        page.screenshot(path=str(screenshots / "crew-restored.png"), full_page=True)
        assert _status(grid_database, incident) == ("restored", "tree_contact")
        assert problems == []
    finally:
        context.close()
