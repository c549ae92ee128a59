"""The maps in a real browser: the dispatcher's live map on a control-room screen without
internet, and the public map on a phone. A server of their own polls every second and
shows no tiles (an offline room), on a database of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Topology
from maps.strings import strings as map_strings
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.enums import SwitchSource
from outage.grid.models import Device
from outage.grid.service import load_network
from outage.grid.switching import operate
from outage.i18n import strings
from outage.incidents.changes import cancel, open_incident
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident
from outage.orders.service import get_order
from outage.settings import Settings
from tests.conftest import STAFF_PASSWORD, issue_credentials, own_database, username
from tests.outage.grid.conftest import Transfer, transfer  # noqa: F401 (the fixture)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CONTROL_ROOM: ViewportSize = {"width": 1600, "height": 900}
PHONE: ViewportSize = {"width": 360, "height": 740}
POLL_S = 1.0


@pytest.fixture(scope="module")
def map_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_mapsb", sample_grid) as url:
        issue_credentials(url, roles=[Role.DISPATCHER], scopes=[])
        yield url


@pytest.fixture(scope="module")
def map_server(
    map_database: str, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> Iterator[str]:
    offline = Settings(map_tile_url="", map_poll_seconds=POLL_S, map_cache_seconds=POLL_S)
    with serve(create_app(map_database, offline)) as url:
        yield url


def watch(page: Page) -> tuple[list[str], list[str]]:
    """Every URL the page requests, and every problem: a script error, a CSP violation,
    a failed load."""
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type in ("error", "warning")
            and "Failed to load resource" not in message.text
            else None
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
    return requested, problems


def sign_in(page: Page, url: str, language: str, role: Role = Role.DISPATCHER) -> None:
    """From a staff page, through the login page and back."""
    t = strings(language)
    page.goto(url)
    assert urlsplit(page.url).path == "/login"
    page.get_by_label(t["login_username"]).fill(username(role))
    page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name=t["login_button"], exact=True).click()


def open_outage(database: str) -> int:
    """An outage at the transformer with the most customers, as the engine opens one."""
    with session_scope(session_factory(database)) as session:
        counts = Topology(load_network(session)).customer_counts()
        transformers = session.scalars(
            select(Device.asset_ref).where(Device.kind == DeviceKind.TRANSFORMER)
        )
        asset_ref = max(transformers, key=lambda ref: (counts.get(ref, 0), ref))
        return open_incident(
            session,
            device_asset_ref=asset_ref,
            confidence=0.7,
            customers_affected=counts[asset_ref],
            started_at=datetime.now(UTC) - timedelta(minutes=10),
            reason="browser test",
        )


def status_of(database: str, incident_id: int) -> IncidentStatus:
    with session_scope(session_factory(database)) as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        return incident.status


def test_the_dispatcher_map_follows_the_storm_without_a_reload(
    browser: Browser, map_server: str, map_database: str, screenshots: Path
) -> None:
    t = map_strings("en")
    context = browser.new_context(viewport=CONTROL_ROOM, locale="en-GB")
    try:
        page = context.new_page()
        requested, problems = watch(page)
        sign_in(page, f"{map_server}/dispatch?lang=en", "en")
        assert urlsplit(page.url).path == "/dispatch"
        # The CSP allows no eval, so no wait_for_function: locators wait instead.
        page.locator("#panel-updated:not(:empty)").wait_for()
        page.evaluate("window.loadedOnce = true")  # gone if the page reloads
        assert page.locator(".leaflet-control-layers-overlays label").count() == 6

        incident_id = open_outage(map_database)
        item = page.locator(f"#incident-{incident_id}")
        item.wait_for(timeout=POLL_S * 5000)
        assert page.evaluate("window.loadedOnce") is True
        assert t["status_predicted"] in item.inner_text()
        page.locator("path.incident-marker").wait_for()
        page.locator("path.affected-area").wait_for()

        item.locator(".locate").click()  # opens the row: its facts and actions
        detail = page.locator(f"#incident-{incident_id}-detail")
        detail.get_by_role("button", name=t["action_confirm"]).click()
        confirmed = page.locator(f"#incident-{incident_id}", has_text=t["status_confirmed"])
        confirmed.wait_for(timeout=POLL_S * 5000)
        assert status_of(map_database, incident_id) is IncidentStatus.CONFIRMED
        page.screenshot(path=str(screenshots / "dispatch-map.png"))

        elsewhere = [url for url in requested if not url.startswith(map_server)]
        assert not elsewhere, f"no request leaves the app: {elsewhere}"
        assert not problems, f"no CSP violation, script error or failed load: {problems}"
    finally:
        context.close()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_public_map_fits_a_phone(
    browser: Browser, map_server: str, map_database: str, screenshots: Path, language: str
) -> None:
    t = map_strings(language)
    incident_id = open_outage(map_database)
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        requested, problems = watch(page)
        page.goto(f"{map_server}/map?lang={language}")
        assert page.inner_text("h1") == t["public_title"]
        page.locator("#map-updated:not(:empty)").wait_for(timeout=POLL_S * 5000)
        page.locator("path.leaflet-interactive").first.wait_for()
        summary = page.inner_text("#map-summary")
        assert summary not in (t["public_loading"], t["public_none"], t["public_failed"])
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        box = page.locator(".folium-map").bounding_box()
        assert box is not None and box["width"] == PHONE["width"] and box["height"] >= 300

        page.locator("path.leaflet-interactive").first.click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert t["customers_out"] in popup.inner_text()
        page.screenshot(path=str(screenshots / f"public-map-{language}.png"))

        assert all(url.startswith(map_server) for url in requested), "nothing from elsewhere"
        assert not problems, f"no CSP violation, script error or failed load: {problems}"
    finally:
        context.close()
        with session_scope(session_factory(map_database)) as session:
            cancel(session, incident_id, reason="browser test done")


def switch(database: str, asset_ref: str, *, is_open: bool, source: SwitchSource) -> None:
    with session_scope(session_factory(database)) as session:
        operate(
            session,
            asset_ref,
            is_open=is_open,
            occurred_at=datetime.now(UTC),
            source=source,
            actor="browser test",
            reason="<b>storm</b> switching",
        )


def test_the_dispatcher_map_colours_the_network_as_it_stands(
    browser: Browser,
    map_server: str,
    map_database: str,
    screenshots: Path,
    transfer: Transfer,  # noqa: F811
) -> None:
    """By the feeder feeding each line, those without supply apart, with a legend; a
    tripped head's feeder goes dead, and comes back in the neighbour's colour through
    the tie."""
    t = map_strings("en")
    context = browser.new_context(viewport=CONTROL_ROOM, locale="en-GB")
    try:
        page = context.new_page()
        _, problems = watch(page)
        sign_in(page, f"{map_server}/dispatch?lang=en", "en")
        legend = page.locator("#network-legend")
        legend.locator("li.legend-feeder").nth(1).wait_for()
        assert legend.locator("li.legend-feeder").count() == 2
        for key in ("legend_deenergized", "legend_open", "legend_closed", "legend_tripped"):
            assert t[key] in legend.inner_text()
        feeders = page.locator("path.network-feeder")
        feeders.nth(1).wait_for()
        colours = {feeders.nth(i).get_attribute("stroke") for i in range(feeders.count())}
        assert len(colours) == 2, "each feeder in its own colour"
        assert page.locator("path.network-deenergized").count() == 0

        switch(map_database, transfer.head, is_open=True, source=SwitchSource.SCADA)
        page.locator("path.network-deenergized").wait_for(timeout=POLL_S * 5000)
        dead = page.locator("path.network-deenergized")
        assert dead.get_attribute("stroke-dasharray") == "6 6"
        assert dead.get_attribute("stroke") not in colours
        page.locator("path.network-abnormal").wait_for()

        switch(map_database, transfer.tie, is_open=False, source=SwitchSource.DISPATCHER)
        dead.wait_for(state="detached", timeout=POLL_S * 5000)
        assert page.locator("path.network-feeder").count() == 1
        tie = page.locator("path.network-abnormal").nth(1)
        tie.wait_for()
        page.screenshot(path=str(screenshots / "dispatch-network.png"))
        tie.click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert "<b>storm</b> switching" in popup.inner_text()  # text, not markup
        assert popup.locator("b").count() == 0
        assert not problems, f"no CSP violation, script error or failed load: {problems}"
    finally:
        context.close()
        switch(map_database, transfer.tie, is_open=True, source=SwitchSource.DISPATCHER)
        switch(map_database, transfer.head, is_open=False, source=SwitchSource.DISPATCHER)


def test_the_dispatcher_sees_devices_out_of_normal_and_drafts_their_return(
    browser: Browser,
    map_server: str,
    map_database: str,
    sample_grid: GridModel,
    screenshots: Path,
) -> None:
    """Counted and listed with who, when and why (text, not markup); a row focuses the map
    on its device; "return to normal" drafts the order and links to it."""
    t = map_strings("en")
    first, second = [
        d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.SWITCH and not d.is_open
    ][-2:]
    switch(map_database, first, is_open=True, source=SwitchSource.CREW)
    switch(map_database, second, is_open=True, source=SwitchSource.DISPATCHER)
    context = browser.new_context(viewport=CONTROL_ROOM, locale="en-GB")
    try:
        page = context.new_page()
        _, problems = watch(page)
        sign_in(page, f"{map_server}/dispatch?lang=en", "en")
        rows = page.locator("#abnormal-list li.abnormal-device")
        rows.nth(1).wait_for(timeout=POLL_S * 5000)
        assert page.inner_text("#abnormal-count") == "(2)"
        row = page.locator(f'#abnormal-list li[data-asset-ref="{first}"]')
        shown = row.inner_text()
        assert t["abnormal_now_open"] in shown
        assert f"browser test ({t['source_crew']})" in shown
        assert "<b>storm</b> switching" in shown and row.locator("b").count() == 0

        row.get_by_role("button", name=f"{t['device_switch']} {first}").click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert first in popup.inner_text()

        row.get_by_role("button", name=t["abnormal_return"]).click()
        link = page.locator("#abnormal-outcome a.drafted")
        link.wait_for()
        order_id = int(link.inner_text().split("#")[1].split(" ")[0])
        assert link.get_attribute("href") == (
            f"/switching?lang=en&drafted={order_id}#order-{order_id}"
        )
        page.get_by_role("button", name=t["abnormal_return_all"]).click()
        page.locator(f'#abnormal-outcome a.drafted[href$="#order-{order_id + 1}"]').wait_for()
        with session_scope(session_factory(map_database)) as session:
            order = get_order(session, order_id + 1)
        assert sorted(step.asset_ref for step in order.steps) == sorted([first, second])
        page.screenshot(path=str(screenshots / "dispatch-abnormal.png"))
        with page.expect_navigation():
            link.click()
        assert page.locator(f"#order-{order_id + 1}").count() == 1
        assert not problems, f"no CSP violation, script error or failed load: {problems}"
    finally:
        context.close()
        for asset_ref in (first, second):
            switch(map_database, asset_ref, is_open=False, source=SwitchSource.DISPATCHER)
