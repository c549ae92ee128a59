"""The maps in a real browser: the dispatcher's live map on a control-room screen without
internet, and the public map on a phone. A server of their own polls every second and
shows no tiles (an offline room), on a database of their own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from dispatch.model import CrewStatus
from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Topology
from maps.strings import strings as map_strings
from outage.app import create_app
from outage.auth.enums import Role
from outage.crews import service as crews
from outage.crews.schemas import CrewIn, Point, PositionIn
from outage.db import session_factory, session_scope
from outage.grid.enums import SwitchSource
from outage.grid.models import Device
from outage.grid.service import load_network
from outage.grid.switching import operate
from outage.i18n import strings
from outage.incidents.changes import cancel, open_incident
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.models import Incident
from outage.intake.enums import Hazard
from outage.orders.service import get_order
from outage.settings import Settings
from tests.browser.conftest import blocking_violations
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


def open_outage(database: str, kind: DeviceKind = DeviceKind.TRANSFORMER) -> int:
    """An outage at the device of `kind` with the most customers, as the engine opens one."""
    with session_scope(session_factory(database)) as session:
        counts = Topology(load_network(session)).customer_counts()
        devices = session.scalars(select(Device.asset_ref).where(Device.kind == kind))
        asset_ref = max(devices, key=lambda ref: (counts.get(ref, 0), ref))
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
        page.locator(".incident-marker svg.state-predicted").wait_for()
        page.locator("path.affected-area").wait_for()

        item.locator(".locate").click()  # opens the row: its facts and actions
        detail = page.locator(f"#incident-{incident_id}-detail")
        detail.get_by_role("button", name=t["action_confirm"]).click()
        confirmed = page.locator(f"#incident-{incident_id}", has_text=t["status_confirmed"])
        confirmed.wait_for(timeout=POLL_S * 5000)
        assert status_of(map_database, incident_id) is IncidentStatus.CONFIRMED
        page.locator(".incident-marker svg.state-confirmed").wait_for(timeout=POLL_S * 5000)
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


CONTROL_ROOM_WIDE: ViewportSize = {"width": 1920, "height": 1080}
SNUG = 0.6
"""The network's share of the map's width or height on load, at the least."""


def test_the_dispatcher_map_opens_on_the_network_filling_it(
    browser: Browser, map_server: str
) -> None:
    context = browser.new_context(viewport=CONTROL_ROOM_WIDE, locale="en-GB")
    try:
        page = context.new_page()
        _, problems = watch(page)
        sign_in(page, f"{map_server}/dispatch?lang=en", "en")
        lines = page.locator("path.network-feeder")
        lines.first.wait_for()
        page.wait_for_timeout(POLL_S * 1500)  # polled again: the first fit is the only one
        boxes = [lines.nth(i).bounding_box() for i in range(lines.count())]
        shown = page.locator(".folium-map").bounding_box()
        drawn = [box for box in boxes if box is not None]
        assert shown is not None and drawn
        width = max(b["x"] + b["width"] for b in drawn) - min(b["x"] for b in drawn)
        height = max(b["y"] + b["height"] for b in drawn) - min(b["y"] for b in drawn)
        assert width / shown["width"] >= SNUG or height / shown["height"] >= SNUG
        assert width <= shown["width"] and height <= shown["height"], "all of it in view"
        assert not problems, f"no CSP violation, script error or failed load: {problems}"
    finally:
        context.close()


def drive(database: str, name: str, fixes: list[tuple[float, float]]) -> int:
    """A crew on its way that sent these positions, a minute apart, the last just now."""
    now = datetime.now(UTC)
    with session_scope(session_factory(database)) as session:
        crew_id = crews.create_crew(
            session, CrewIn(name=name, skills=[], depot=Point(lat=fixes[0][0], lon=fixes[0][1]))
        )
        for ago, (lat, lon) in enumerate(reversed(fixes)):
            crews.record_position(
                session,
                crew_id,
                PositionIn(
                    lat=lat,
                    lon=lon,
                    recorded_at=now - timedelta(minutes=ago),
                    status=CrewStatus.EN_ROUTE,
                ),
                now=now,
            )
    return crew_id


def open_hazard(database: str) -> int:
    """Wires down at the first switch, not yet confirmed."""
    with session_scope(session_factory(database)) as session:
        switch_ref = session.scalars(
            select(Device.asset_ref).where(Device.kind == DeviceKind.SWITCH).order_by(Device.id)
        ).first()
        return open_incident(
            session,
            kind=IncidentKind.HAZARD,
            device_asset_ref=switch_ref,
            hazard=Hazard.WIRES_DOWN,
            confidence=0.9,
            customers_affected=0,
            started_at=datetime.now(UTC),
            reason="browser test",
        )


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_dispatcher_map_tells_incidents_hazards_and_crews_apart_with_a_legend(
    browser: Browser, map_server: str, map_database: str, screenshots: Path, language: str
) -> None:
    """An outage in its state's shape (on a line section's middle too), a hazard as a
    warning triangle, a crew as a vehicle with an arrow the way it goes (north-east here),
    each named in the page's language; the legend on the map shows every kind."""
    t = map_strings(language)
    outage_id, hazard_id = open_outage(map_database), open_hazard(map_database)
    line_id = open_outage(map_database, DeviceKind.LINE)
    crew = f"Crew {language} {uuid.uuid4().hex[:6]}"
    drive(map_database, crew, [(53.640, 11.370), (53.641, 11.372)])
    context = browser.new_context(viewport=CONTROL_ROOM, locale="en-GB")
    try:
        page = context.new_page()
        _, problems = watch(page)
        sign_in(page, f"{map_server}/dispatch?lang={language}", language)
        outage = page.locator(f'.incident-marker[aria-label^="{t["incident"]} #{outage_id} "]')
        outage.wait_for(timeout=POLL_S * 5000)
        assert outage.locator("svg.state-predicted path").count() == 1  # the diamond
        on_line = page.locator(f'.incident-marker[aria-label^="{t["incident"]} #{line_id} "]')
        assert on_line.locator("svg.state-predicted").count() == 1
        on_line.click()
        page.locator(".leaflet-popup-content", has_text=f"#{line_id}").wait_for()
        hazard = page.locator(f'.hazard-marker[aria-label*="#{hazard_id} "]')
        hazard.wait_for()
        assert hazard.locator("svg.hazard").count() == 1
        assert (hazard.get_attribute("aria-label") or "").startswith(t["symbol_hazard"])
        vehicle = page.locator(
            f'.crew-marker[aria-label="{t["crew"]} {crew} · {t["crew_en_route"]}"]'
        )
        vehicle.wait_for()
        assert vehicle.locator("g.vehicle").count() == 1
        turned = vehicle.locator("g.heading").get_attribute("transform") or ""
        degrees = float(turned.removeprefix("rotate(").split(" ")[0])
        assert 40 < degrees < 70, turned
        assert page.locator(".incident-marker g.vehicle, .crew-marker svg.hazard").count() == 0

        legend = page.locator("#symbol-legend")
        assert legend.is_visible()
        shown = legend.inner_text()
        for key in (
            *(f"status_{state.value}" for state in sorted(ACTIVE)),
            "symbol_hazard_any",
            *(f"crew_{status.value}" for status in CrewStatus),
            "symbol_heading",
            "symbol_report",
            "symbol_area",
        ):
            assert t[key] in shown, key
        assert legend.locator("li.legend-hazard svg.hazard").count() == 1
        assert legend.locator("li.legend-crew g.vehicle").count() == len(CrewStatus)
        assert page.locator("#network-legend").count() == 1, "the network's legend stays"
        page.screenshot(path=str(screenshots / f"dispatch-symbols-{language}.png"))
        assert not problems, f"no CSP violation, script error or failed load: {problems}"
    finally:
        context.close()
        with session_scope(session_factory(map_database)) as session:
            for incident_id in (outage_id, hazard_id, line_id):
                cancel(session, incident_id, reason="browser test done")


def test_the_dispatcher_maps_symbols_and_legend_pass_axe(
    browser: Browser, map_server: str, map_database: str
) -> None:
    outage_id, hazard_id = open_outage(map_database), open_hazard(map_database)
    drive(map_database, f"Crew axe {uuid.uuid4().hex[:6]}", [(53.640, 11.370), (53.641, 11.372)])
    # The page's policy forbids inline scripts; only the test bypasses it to inject axe.
    context = browser.new_context(viewport=CONTROL_ROOM, locale="vi-VN", bypass_csp=True)
    try:
        page = context.new_page()
        sign_in(page, f"{map_server}/dispatch?lang=vi", "vi")
        page.locator(".hazard-marker").wait_for(timeout=POLL_S * 5000)
        page.locator(".crew-marker g.heading").first.wait_for()
        page.locator("#symbol-legend").wait_for()
        assert blocking_violations(page) == []
    finally:
        context.close()
        with session_scope(session_factory(map_database)) as session:
            cancel(session, outage_id, reason="browser test done")
            cancel(session, hazard_id, reason="browser test done")


def test_the_dispatcher_maps_legend_starts_folded_on_a_phone(
    browser: Browser, map_server: str
) -> None:
    t = map_strings("en")
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        sign_in(page, f"{map_server}/dispatch?lang=en", "en")
        legend = page.locator("#symbol-legend")
        legend.wait_for()
        assert legend.get_attribute("open") is None
        assert not legend.locator("li.legend-hazard").is_visible()
        legend.get_by_text(t["symbol_legend_title"]).click()
        assert legend.locator("li.legend-hazard").is_visible()
    finally:
        context.close()
