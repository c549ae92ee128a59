"""The public outage map on a 360 px phone during a storm, its tiles unreachable: the
legend, the list of affected areas, our own outline under them. A server and a database
of their own; the tiles come from a server the browser cannot reach."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Topology
from maps.strings import strings as map_strings
from outage.app import create_app
from outage.db import session_factory, session_scope
from outage.grid.models import Device, GridNode, Premise
from outage.grid.service import load_network
from outage.incidents.changes import cancel, open_incident, set_etr
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.settings import Settings
from outage.tickets import TICKET_ALPHABET
from tests.browser.test_maps_browser import PHONE, watch
from tests.conftest import own_database

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

TILES = "https://tiles.invalid/{z}/{x}/{y}.png"
POLL_S = 1.0
STORM = 4
"""Outages opened at once, at the transformers with the most customers..."""
STORM_INCIDENTS = 200
"""... among this many active incidents in all, on the other devices: a storm's scale."""


@pytest.fixture(scope="module")
def storm_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_publicmap", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def storm_server(
    storm_database: str, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> Iterator[str]:
    settings = Settings(map_tile_url=TILES, map_poll_seconds=POLL_S, map_cache_seconds=POLL_S)
    with serve(create_app(storm_database, settings)) as url:
        yield url


@pytest.fixture(scope="module")
def storm(storm_database: str) -> Iterator[list[int]]:
    """Outages at the busiest transformers, opened as the engine opens them."""
    yield from _storm(storm_database)


@pytest.fixture(scope="module")
def out_premise(storm_database: str, storm: list[int]) -> tuple[str, float, float]:
    """The address and place of a premise the storm cut off."""
    with session_scope(session_factory(storm_database)) as session:
        topology = Topology(load_network(session))
        incident = session.scalars(
            select(Device.asset_ref).where(Device.kind == DeviceKind.TRANSFORMER)
        )
        counts = topology.customer_counts()
        busiest = max(incident, key=lambda ref: (counts.get(ref, 0), ref))
        row = session.execute(
            select(Premise.address, Premise.geom.ST_Y(), Premise.geom.ST_X())
            .join(GridNode, GridNode.id == Premise.node_id)
            .where(GridNode.ref.in_(topology.downstream(busiest).nodes))
            .order_by(Premise.id)
            .limit(1)
        ).one()
    return row[0], row[1], row[2]


def _storm(storm_database: str) -> Iterator[list[int]]:
    sessions = session_factory(storm_database)
    with session_scope(sessions) as session:
        counts = Topology(load_network(session)).customer_counts()
        transformers = session.scalars(
            select(Device.asset_ref).where(Device.kind == DeviceKind.TRANSFORMER)
        )
        busiest = sorted(transformers, key=lambda ref: (-counts.get(ref, 0), ref))[:STORM]
        others = session.scalars(
            select(Device.asset_ref)
            .where(Device.kind.in_([DeviceKind.FUSE, DeviceKind.LINE, DeviceKind.TRANSFORMER]))
            .where(Device.asset_ref.not_in(busiest))
            .order_by(Device.asset_ref)
        ).all()
        opened = [
            open_incident(
                session,
                device_asset_ref=asset_ref,
                confidence=0.7,
                customers_affected=counts.get(asset_ref, 0),
                started_at=datetime.now(UTC) - timedelta(minutes=30),
                reason="storm walk-through",
            )
            for asset_ref in [*busiest, *others[: STORM_INCIDENTS - STORM]]
        ]
        assert len(opened) == STORM_INCIDENTS
    yield opened
    with session_scope(sessions) as session:
        for incident_id in opened:
            cancel(session, incident_id, reason="storm walk-through done")


def phone(
    browser: Browser, server: str, language: str, **options: Any
) -> tuple[Page, list[str], list[str]]:
    """The public map on a phone whose tile requests all fail."""
    context = browser.new_context(
        viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True, **options
    )
    page = context.new_page()
    tile_requests: list[str] = []

    def refuse(route: Route) -> None:
        tile_requests.append(route.request.url)
        route.abort()

    page.route("https://tiles.invalid/**", refuse)
    _, problems = watch(page)
    page.goto(f"{server}/map?lang={language}")
    return page, tile_requests, problems


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_legend_tells_the_colours_on_a_phone(
    browser: Browser, storm_server: str, storm: list[int], screenshots: Path, language: str
) -> None:
    t = map_strings(language)
    page, _, problems = phone(browser, storm_server, language)
    try:
        legend = page.locator("#map-legend")
        assert legend.is_visible()
        assert legend.get_attribute("open") is not None, "open at first"
        shown = legend.inner_text()
        assert t["public_legend_scale"] in shown
        assert t["public_legend_range"].format(low=3, high=19) in shown
        assert t["public_legend_more"].format(n=500) in shown
        assert t["public_legend_etr"] in shown
        assert legend.locator("svg.swatch").count() == 4
        box = legend.bounding_box()
        assert box is not None and box["y"] < PHONE["height"], "on the first screen"
        page.locator("#map-legend summary").click()
        assert legend.get_attribute("open") is None, "one tap folds it"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert not problems, problems
    finally:
        page.context.close()


def test_the_list_has_the_affected_areas_most_customers_first(
    browser: Browser, storm_server: str, storm: list[int], screenshots: Path
) -> None:
    t = map_strings("en")
    page, _, problems = phone(browser, storm_server, "en")
    try:
        rows = page.locator("#area-rows tr")
        rows.first.wait_for(timeout=POLL_S * 5000)
        headings = page.locator("#area-table thead th")
        assert [headings.nth(i).inner_text() for i in range(3)] == [
            t["public_area"],
            t["customers_out"],
            t["etr"],
        ]
        areas = page.evaluate("document.querySelectorAll('path.leaflet-interactive').length")
        assert rows.count() == areas > 1
        counts = [int(rows.nth(i).locator("td").first.inner_text()) for i in range(rows.count())]
        assert counts == sorted(counts, reverse=True)
        assert "Phường" in rows.first.locator("th").inner_text(), "named by its ward"
        assert t["etr_unknown"] in rows.first.inner_text()

        button = rows.first.get_by_role("button")
        button.focus()
        page.keyboard.press("Enter")
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert str(counts[0]) in popup.inner_text()
        page.screenshot(path=str(screenshots / "public-map-list.png"), full_page=True)
        assert not problems, problems
    finally:
        page.context.close()


def test_without_tiles_the_map_draws_our_outline(
    browser: Browser, storm_server: str, storm: list[int], screenshots: Path
) -> None:
    page, tile_requests, problems = phone(browser, storm_server, "vi")
    try:
        page.locator("path.leaflet-interactive").first.wait_for(timeout=POLL_S * 5000)
        page.locator("svg path.outline-territory").wait_for()
        lines = page.locator("svg path.outline-lines")
        lines.wait_for()
        assert len(lines.get_attribute("d") or "") > 100, "the lines are drawn"
        assert tile_requests, "the tiles were asked for, and refused"
        page.screenshot(path=str(screenshots / "public-map-no-tiles.png"))
        assert not problems, problems
    finally:
        page.context.close()


VIEW = "new Promise(done => OutageMaps.when('map', m => done([m.getZoom(), m.getCenter().lat])))"


def view(page: Page) -> list[float]:
    """The map's zoom and the latitude of its centre."""
    shown: list[float] = page.evaluate(VIEW)
    return shown


def test_a_search_for_an_address_flies_to_its_area_and_tells_its_outage(
    browser: Browser,
    storm_server: str,
    out_premise: tuple[str, float, float],
    screenshots: Path,
) -> None:
    t = map_strings("en")
    address, _, _ = out_premise
    page, _, problems = phone(browser, storm_server, "en")
    try:
        page.locator("#area-rows tr").first.wait_for(timeout=POLL_S * 5000)
        assert page.locator("#map-legend").is_visible()
        before = view(page)
        page.get_by_label(t["lookup_label"]).fill(address)
        page.get_by_role("button", name=t["lookup_button"], exact=True).click()
        result = page.locator("#lookup-result")
        result.get_by_text("customers out").wait_for()
        said = result.inner_text()
        assert "power is out here" in said and t["etr_unknown"] in said
        assert "Phường" in said and address.split(",")[0] not in said, "the ward, not the house"
        page.locator("path.lookup-found").wait_for()
        page.wait_for_timeout(1000)  # the flight
        assert view(page) != before, "the map flew"
        area = page.locator("path.lookup-found").bounding_box()
        shown = page.locator(".folium-map").bounding_box()
        assert area is not None and shown is not None
        assert (
            shown["y"] <= area["y"] and area["y"] + area["height"] <= shown["y"] + shown["height"]
        )
        page.screenshot(path=str(screenshots / "public-map-search.png"))
        assert not problems, problems
    finally:
        page.context.close()


def test_locate_me_tells_whether_power_is_out_where_the_visitor_is(
    browser: Browser,
    storm_server: str,
    out_premise: tuple[str, float, float],
) -> None:
    t = map_strings("vi")
    _, lat, lon = out_premise
    page, _, problems = phone(
        browser,
        storm_server,
        "vi",
        geolocation={"latitude": lat, "longitude": lon},
        permissions=["geolocation"],
    )
    try:
        page.get_by_role("button", name=t["locate_button"]).click()
        result = page.locator("#lookup-result")
        result.get_by_text(t["lookup_here"]).wait_for()
        assert "mất điện" in result.inner_text()
        page.locator("path.lookup-found").wait_for()
        assert not problems, problems
    finally:
        page.context.close()


def test_a_ticket_asks_for_the_phones_digits_first(
    browser: Browser, storm_server: str, storm_database: str, storm: list[int]
) -> None:
    t = map_strings("en")
    ticket = _report_with_phone(storm_database, "+84901234567")
    page, _, _ = phone(browser, storm_server, "en")
    try:
        page.get_by_label(t["lookup_label"]).fill(ticket)
        page.get_by_role("button", name=t["lookup_button"], exact=True).click()
        page.locator("#lookup-result").get_by_text(t["lookup_digits_needed"]).wait_for()
        page.get_by_label(t["lookup_digits_label"]).fill("4567")
        page.get_by_role("button", name=t["lookup_button"], exact=True).click()
        page.locator("#lookup-result").get_by_text(f"Ticket {ticket}").wait_for()
        page.locator("path.lookup-found").wait_for()
    finally:
        page.context.close()


def _report_with_phone(database: str, phone_number: str) -> str:
    ticket = f"{datetime.now(UTC):%y%m%d}-" + "".join(
        secrets.choice(TICKET_ALPHABET) for _ in range(5)
    )
    with session_scope(session_factory(database)) as session:
        premise = session.scalars(select(Premise.id).order_by(Premise.id).limit(1)).one()
        session.add(
            Report(
                ticket=ticket,
                channel=Channel.WEB,
                status=ReportStatus.RECEIVED,
                phone=phone_number,
                premise_id=premise,
                match_method=MatchMethod.ADDRESS,
                match_confidence=1.0,
                candidates=[],
            )
        )
    return ticket


def test_an_areas_popup_tells_the_range_its_power_likely_comes_back_in(
    browser: Browser, storm_server: str, storm_database: str, storm: list[int]
) -> None:
    """Last of the module: the busiest outage gets an estimate, the others keep none."""
    etr = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    with session_scope(session_factory(storm_database)) as session:
        set_etr(
            session, storm[0], etr=etr, likely=(etr - timedelta(hours=1), etr + timedelta(hours=1))
        )
    page, _, problems = phone(browser, storm_server, "en")
    try:
        row = page.locator("#area-rows tr", has_text="likely between").first
        row.wait_for(timeout=POLL_S * 10000)
        row.get_by_role("button").click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert "(likely between " in popup.inner_text()
        assert not problems, problems
    finally:
        page.context.close()
