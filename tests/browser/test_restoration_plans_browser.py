"""Restoration plans on the dispatcher's map in a real browser: an outage's ranked plans
read on demand, a plan drawn on the map, ordered in one click, and refused when the
network changed since they were read. On the restoration tests' fault: the first
feeder's breaker tripped on a line in its middle."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from maps.strings import strings as map_strings
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.enums import SwitchSource
from outage.grid.switching import operate
from outage.orders.service import get_order
from outage.restoration.models import RestorationOrder
from outage.settings import Settings
from tests.browser.test_maps_browser import CONTROL_ROOM, POLL_S, sign_in, watch
from tests.conftest import issue_credentials
from tests.outage.restoration.conftest import (  # noqa: F401 (the fixtures)
    TIE,
    Outage,
    line_fault,
    restoration_database,
)

NEIGHBOUR_HEAD = "MV3.101 Switch 42"
"""The second feeder's head, away from the fault."""

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page


@pytest.fixture(scope="module")
def plans_server(
    restoration_database: str,  # noqa: F811
    serve: Callable[[FastAPI], AbstractContextManager[str]],
) -> Iterator[str]:
    issue_credentials(restoration_database, roles=[Role.DISPATCHER, Role.SUPERVISOR], scopes=[])
    offline = Settings(map_tile_url="", map_poll_seconds=POLL_S, map_cache_seconds=POLL_S)
    with serve(create_app(restoration_database, offline)) as url:
        yield url


def shown_plans(page: Page, server: str, incident_id: int, role: Role) -> Locator:
    """Signed in on the map, the incident's plans opened: its first plan."""
    t = map_strings("en")
    sign_in(page, f"{server}/dispatch?lang=en", "en", role)
    page.locator(f"#incident-{incident_id} .locate").click()  # opens the row
    section = page.locator(f"#plans-{incident_id}")
    section.wait_for(timeout=POLL_S * 5000)
    section.get_by_role("button", name=t["plans_show"]).click()
    first = section.locator("li.plan").first
    first.wait_for(timeout=30_000)
    return first


def test_a_plan_is_shown_drawn_and_ordered_in_one_click(
    browser: Browser,
    plans_server: str,
    restoration_database: str,  # noqa: F811
    line_fault: Outage,  # noqa: F811
    screenshots: Path,
) -> None:
    t = map_strings("en")
    context = browser.new_context(viewport=CONTROL_ROOM, locale="en-GB")
    try:
        page = context.new_page()
        _, problems = watch(page)
        plan = shown_plans(page, plans_server, line_fault.incident_id, Role.DISPATCHER)
        text = plan.inner_text()
        assert "Plan 1" in text and t["plan_restored"] in text and t["plan_saved"] in text
        assert TIE in text and t["plan_step_close"] in text
        steps = plan.locator("li.plan-step-row")
        shown_steps = [
            steps.nth(i).locator(".step-device").inner_text() for i in range(steps.count())
        ]

        plan.hover()
        page.locator("path.plan-restored").first.wait_for()
        page.locator("path.plan-dead").first.wait_for()
        assert page.locator("path.plan-step").count() == len(shown_steps)
        restored = page.locator("path.plan-restored")
        colours = {restored.nth(i).get_attribute("stroke") for i in range(restored.count())}
        neighbour = page.locator("path.network-feeder").get_attribute("stroke")
        assert len(colours) == 2 and neighbour in colours, "by the breaker, and by the tie"
        page.screenshot(path=str(screenshots / "dispatch-restoration-plan.png"))

        plan.get_by_role("button", name=t["plan_order"]).click()
        link = page.locator(f"#plans-{line_fault.incident_id} a.drafted")
        link.wait_for()
        order_id = int(link.inner_text().split("#")[1].split(" ")[0])
        assert (
            link.get_attribute("href") == f"/switching?lang=en&drafted={order_id}#order-{order_id}"
        )
        with session_scope(session_factory(restoration_database)) as session:
            order = get_order(session, order_id)
            linked = session.scalar(
                select(RestorationOrder.incident_id).where(RestorationOrder.order_id == order_id)
            )
        assert linked == line_fault.incident_id and order.state == "draft"
        ordered = [f"{t['plan_step_' + s.action.value]} {s.asset_ref}" for s in order.steps]
        assert ordered == shown_steps
        assert not problems, f"no CSP violation, script error or failed load: {problems}"
    finally:
        context.close()


def test_a_plan_read_before_the_network_changed_is_refused_and_read_again(
    browser: Browser,
    plans_server: str,
    restoration_database: str,  # noqa: F811
    line_fault: Outage,  # noqa: F811
) -> None:
    t = map_strings("en")
    context = browser.new_context(viewport=CONTROL_ROOM, locale="en-GB")
    try:
        page = context.new_page()
        plan = shown_plans(page, plans_server, line_fault.incident_id, Role.DISPATCHER)
        with session_scope(session_factory(restoration_database)) as session:
            for is_open in (True, False):  # the same network, a new version
                operate(
                    session,
                    NEIGHBOUR_HEAD,
                    is_open=is_open,
                    occurred_at=datetime.now(UTC),
                    source=SwitchSource.DISPATCHER,
                    actor="browser test",
                )
        plan.get_by_role("button", name=t["plan_order"]).click()
        note = page.locator(f"#plans-{line_fault.incident_id} .plans-outcome")
        note.filter(has_text=NEIGHBOUR_HEAD).wait_for()
        before, after = t["plan_stale"].split("{reason}")
        assert note.inner_text().startswith(before) and note.inner_text().endswith(after)
        assert page.locator(f"#plans-{line_fault.incident_id} a.drafted").count() == 0
        section = page.locator(f"#plans-{line_fault.incident_id}")
        section.locator("li.plan").first.wait_for(timeout=30_000)
        assert t["plans_out_now"].split("{n}")[1] in section.locator(".plans-summary").inner_text()
    finally:
        context.close()


def test_a_supervisor_sees_the_plans_but_cannot_order_them(
    browser: Browser,
    plans_server: str,
    line_fault: Outage,  # noqa: F811
) -> None:
    t = map_strings("en")
    context = browser.new_context(viewport=CONTROL_ROOM, locale="en-GB")
    try:
        page = context.new_page()
        plan = shown_plans(page, plans_server, line_fault.incident_id, Role.SUPERVISOR)
        assert plan.locator("li.plan-step-row").count() > 0
        assert plan.get_by_role("button", name=t["plan_order"]).count() == 0
    finally:
        context.close()
