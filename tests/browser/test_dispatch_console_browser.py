"""The dispatcher's incident list in a real browser, in a storm: 200 active incidents in
every state (hazards among them, some with a crew, and 25 single-service outages) and 30
crews, seeded once; a server of its own polls every second."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind, GridModel
from maps.strings import strings as map_strings
from outage.app import create_app
from outage.auth import service as auth
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Device, Premise
from outage.i18n import Language
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.enums import Action, IncidentKind
from outage.incidents.evidence import EvidenceRef
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import Channel, Hazard, MatchMethod, PingReason, PingState, ReportStatus
from outage.intake.models import MeterPing, Report
from outage.pages.crew import strings as crew_strings
from outage.settings import Settings
from tests.browser.conftest import blocking_violations
from tests.browser.test_maps_browser import CONTROL_ROOM, PHONE, sign_in, status_of, watch
from tests.conftest import STAFF_PASSWORD, issue_credentials, make_crew, own_database

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

POLL_S = 1.0
WAIT_MS = POLL_S * 20000
"""How long a change may take to show: a few polls, each reading 200 incidents, on a machine
busy with other tests."""
FIRST_LOAD_MS = 30000
"""The first read of 200 incidents, on a machine busy with other tests."""
SERVICE_OUTAGES = 25
HAZARDS = 25
DEVICE_OUTAGES = 150
CREWS = 30
STEPS = (
    (),
    (Action.CONFIRM,),
    (Action.CONFIRM, Action.ASSIGN),
    (Action.CONFIRM, Action.ASSIGN, Action.EN_ROUTE),
    (Action.CONFIRM, Action.ASSIGN, Action.EN_ROUTE, Action.ON_SITE),
)
"""The actions that bring a new incident to each state, taken in turn by the incidents."""


@dataclass(frozen=True)
class Storm:
    database: str
    crews: list[int]
    unassigned_hazards: set[int]
    service: dict[int, str]
    """Single-service outages: id -> the premise's address."""
    ticket: str
    ticketed: int
    split: int
    """An outage holding two reports (its detail lists them, so it can be split)."""
    split_to: str
    """A device with no incident, where the split sends a report."""


def _advance(session: Session, incident_id: int, steps: tuple[Action, ...], crew: int) -> None:
    for action in steps:
        patch = IncidentPatch(action=action, crew_id=crew if action is Action.ASSIGN else None)
        apply_action(session, incident_id, patch, "storm test")


def _seed(session: Session, grid: GridModel) -> Storm:
    now = datetime.now(UTC)
    crews = [make_crew(session, f"Tổ {n}") for n in range(1, CREWS + 1)]
    devices = [d.asset_ref for d in grid.devices if d.kind is DeviceKind.FUSE]
    devices += [d.asset_ref for d in grid.devices if d.kind is DeviceKind.TRANSFORMER]
    devices += [d.asset_ref for d in grid.devices if d.kind is DeviceKind.LINE]
    for n, asset_ref in enumerate(devices[: DEVICE_OUTAGES - 1]):  # and one to split
        incident_id = open_incident(
            session,
            device_asset_ref=asset_ref,
            confidence=0.7,
            customers_affected=3 + (n * 7) % 90,
            started_at=now - timedelta(minutes=5 + n),
            reason="storm test",
        )
        _advance(session, incident_id, STEPS[n % len(STEPS)], crews[n % CREWS])
    reports = [_report(session, f"SPLIT{n}{uuid.uuid4().hex[:6].upper()}") for n in range(2)]
    split = open_incident(
        session,
        device_asset_ref=devices[DEVICE_OUTAGES - 1],
        confidence=0.7,
        customers_affected=12,
        started_at=now - timedelta(minutes=3),
        evidence=[EvidenceRef.report(r) for r in reports],
        reason="storm test",
    )
    unassigned = set()
    hazards = list(Hazard)
    for n in range(HAZARDS):
        incident_id = open_incident(
            session,
            kind=IncidentKind.HAZARD,
            hazard=hazards[n % len(hazards)],
            confidence=0.9,
            customers_affected=0,
            started_at=now - timedelta(minutes=2 + n),
            reason="storm test",
        )
        steps = STEPS[n % len(STEPS)]
        _advance(session, incident_id, steps, crews[(n * 3) % CREWS])
        if Action.ASSIGN not in steps:
            unassigned.add(incident_id)
    rows = session.execute(
        select(Customer.account, Premise.address, Premise.id)
        .join(Premise, Premise.id == Customer.premise_id)
        .order_by(Customer.id)
        .limit(SERVICE_OUTAGES)
    ).all()
    service = {}
    for n, (account, address, _) in enumerate(rows):
        incident_id = open_incident(
            session,
            account=account,
            confidence=0.6,
            customers_affected=1,
            started_at=now - timedelta(minutes=30 + n),
            reason="storm test",
        )
        service[incident_id] = address
    ticketed = next(iter(service))
    ticket = f"STORM{uuid.uuid4().hex[:6].upper()}"
    session.add(
        Report(
            ticket=ticket,
            channel=Channel.WEB,
            status=ReportStatus.RECEIVED,
            description="no power",
            premise_id=rows[0][2],
            incident_id=ticketed,
            match_method=MatchMethod.ACCOUNT,
            match_confidence=1.0,
            candidates=[],
        )
    )
    session.flush()
    return Storm("", crews, unassigned, service, ticket, ticketed, split, devices[DEVICE_OUTAGES])


def _report(session: Session, ticket: str) -> int:
    report = Report(
        ticket=ticket,
        channel=Channel.WEB,
        status=ReportStatus.RECEIVED,
        description="no power",
        match_method=MatchMethod.NONE,
        match_confidence=0.0,
        candidates=[],
    )
    session.add(report)
    session.flush()
    return report.id


@pytest.fixture(scope="module")
def storm(database_url: str, sample_grid: GridModel) -> Iterator[Storm]:
    with own_database(database_url, "outage_storm", sample_grid) as url:
        issue_credentials(url, roles=[Role.DISPATCHER], scopes=[])
        with session_scope(session_factory(url)) as session:
            seeded = _seed(session, sample_grid)
        yield replace(seeded, database=url)


@pytest.fixture(scope="module")
def storm_server(
    storm: Storm, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> Iterator[str]:
    offline = Settings(map_tile_url="", map_poll_seconds=POLL_S, map_cache_seconds=POLL_S)
    with serve(create_app(storm.database, offline)) as url:
        yield url


@pytest.fixture(scope="module")
def signed_in(browser: Browser, storm_server: str) -> Iterator[BrowserContext]:
    """A dispatcher's browser, signed in once for the module."""
    context = browser.new_context(viewport=CONTROL_ROOM, locale="en-GB")
    try:
        first = context.new_page()
        sign_in(first, f"{storm_server}/dispatch?lang=en", "en")
        first.close()
        yield context
    finally:
        context.close()


@pytest.fixture
def page(signed_in: BrowserContext, storm_server: str) -> Iterator[Page]:
    """A new tab on the list (its filters start empty: they are kept per tab)."""
    shown = signed_in.new_page()
    _, problems = watch(shown)
    try:
        shown.goto(f"{storm_server}/dispatch?lang=en")
        shown.locator("#incident-rows tr.incident-row").first.wait_for(timeout=FIRST_LOAD_MS)
        yield shown
        refused = [p for p in problems if not p.startswith("409 ")]  # a refusal is worded
        assert not refused, f"no script error or failed load: {refused}"
    finally:
        shown.close()


def visible_ids(page: Page) -> list[int]:
    rows = page.locator("#incident-rows tr.incident-row:not([hidden])")
    return [int(i) for i in rows.evaluate_all("rows => rows.map(row => row.dataset.id)")]


def features(page: Page, server: str) -> dict[int, dict[str, object]]:
    """The incidents' properties as the page reads them."""
    answer = page.request.get(f"{server}/api/v1/incidents.geojson")
    return {f["properties"]["id"]: f["properties"] for f in answer.json()["features"]}


def tops(page: Page) -> dict[int, float]:
    rows = page.locator("#incident-rows tr.incident-row:not([hidden])")
    boxes = rows.evaluate_all(
        "rows => rows.map(row => [row.dataset.id, row.getBoundingClientRect().top])"
    )
    return {int(i): top for i, top in boxes}


def expand(page: Page, incident_id: int) -> Locator:
    page.locator(f"#incident-{incident_id} .locate").click()
    detail = page.locator(f"#incident-{incident_id}-detail")
    detail.wait_for()
    return detail


def test_the_unassigned_hazards_count_filters_to_exactly_them_and_survives_a_reload(
    page: Page, storm: Storm
) -> None:
    t = map_strings("en")
    button = page.locator("#totals .total-hazards")
    assert button.locator("strong").inner_text() == str(len(storm.unassigned_hazards))
    button.click()
    assert set(visible_ids(page)) == storm.unassigned_hazards
    assert page.inner_text("#list-count") == t["showing"].format(
        n=len(storm.unassigned_hazards), m=DEVICE_OUTAGES + HAZARDS + SERVICE_OUTAGES
    )
    page.reload()
    page.locator("#incident-rows tr.incident-row").first.wait_for(timeout=FIRST_LOAD_MS)
    assert page.locator("#filter-hazard").is_checked()
    assert set(visible_ids(page)) == storm.unassigned_hazards


def test_assigning_a_crew_moves_no_row_while_the_list_refreshes(
    page: Page, storm: Storm, storm_server: str
) -> None:
    page.locator("#totals .total-hazards").click()
    chosen = visible_ids(page)[2]
    version = features(page, storm_server)[chosen]["version"]
    sent: list[dict[str, object]] = []
    page.on(
        "request",
        lambda request: (
            sent.append(json.loads(request.post_data or "{}"))
            if request.method == "PATCH"
            else None
        ),
    )
    detail = expand(page, chosen)
    detail.locator("button.action-assign").click()
    crew = detail.locator("select")
    assert crew.locator("option").first.inner_text().startswith("Tổ ")
    crew_id = int(crew.input_value())
    detail.get_by_role("button", name=map_strings("en")["save"]).click()
    row = page.locator(f"#incident-{chosen}")
    row.locator(".c-crew", has_text="Tổ").wait_for(timeout=WAIT_MS)
    assert sent == [{"action": "assign", "crew_id": crew_id, "expected_version": version}]

    page.locator(f"#incident-{chosen} .c-state").hover()
    before = tops(page)
    with session_scope(session_factory(storm.database)) as session:
        open_incident(  # a new unassigned hazard: added at the end
            session,
            kind=IncidentKind.HAZARD,
            hazard=Hazard.FIRE,
            confidence=0.9,
            customers_affected=0,
            started_at=datetime.now(UTC),
            reason="storm test",
        )
        first = visible_ids(page)[0]
        patch = IncidentPatch(action=Action.SET_ETR, etr=datetime.now(UTC) + timedelta(hours=3))
        apply_action(session, first, patch, "storm test")
    page.locator("#incident-rows tr.incident-row.new").wait_for(timeout=WAIT_MS)
    page.locator("#list-changes:not(:empty)").wait_for()
    page.wait_for_timeout(POLL_S * 2000)
    after = tops(page)
    assert {i: after[i] for i in before} == before, "no row moved"
    assert chosen in after, "the assigned row stays until a re-sort"
    with session_scope(session_factory(storm.database)) as session:
        incident = session.get(Incident, chosen)
        assert incident is not None and incident.crew_id is not None


STATES = ("predicted", "confirmed", "dispatched", "en_route", "on_site")


def test_the_actions_shown_are_those_the_server_allows(page: Page, storm_server: str) -> None:
    """For a sample of every state, devices' and hazards' alike."""
    t = map_strings("en")
    props = features(page, storm_server)
    for status in STATES:
        sample = [i for i, p in props.items() if p["status"] == status and p["device"]][:1]
        sample += [i for i, p in props.items() if p["status"] == status and p["hazard"]][:1]
        assert sample, status
        for incident_id in sample:
            detail = expand(page, incident_id)
            shown = detail.locator(".actions button").evaluate_all(
                "buttons => buttons.map(b => b.dataset.action)"
            )
            allowed = props[incident_id]["actions"]
            assert isinstance(allowed, list)
            assert set(shown) == set(allowed)
            device = props[incident_id]["device"]
            if isinstance(device, dict):
                title = page.locator(f"#incident-{incident_id} .title-text").inner_text()
                kind = t["device_" + device["kind"]]
                assert title == f"{kind[0].upper()}{kind[1:]} {device['asset_ref']}"


def test_service_outages_are_one_group_titled_by_address(page: Page, storm: Storm) -> None:
    t = map_strings("en")
    group = page.locator("#service-group button")
    assert group.inner_text() == t["service_group"].format(n=SERVICE_OUTAGES)
    assert group.get_attribute("aria-expanded") == "false"
    assert not set(visible_ids(page)) & set(storm.service)
    group.click()
    assert group.get_attribute("aria-expanded") == "true"
    for incident_id, address in storm.service.items():
        title = page.locator(f"#incident-{incident_id} .title-text")
        assert title.is_visible() and title.inner_text() == address


def test_a_ticket_finds_its_incident(page: Page, storm: Storm) -> None:
    page.locator("#filter-q").fill(storm.ticket)
    assert visible_ids(page) == [storm.ticketed]


def test_a_refused_etr_is_explained_before_anything_is_sent(page: Page, storm_server: str) -> None:
    t = map_strings("en")
    props = features(page, storm_server)
    incident_id = next(i for i, p in props.items() if "set_etr" in p["actions"])  # type: ignore[operator]
    detail = expand(page, incident_id)
    detail.locator("button.action-set_etr").click()
    field = detail.locator("input[type=datetime-local]")
    field.fill("2020-01-01T10:00")
    detail.get_by_role("button", name=t["save"]).click()
    assert detail.locator(".field-error").inner_text() == t["etr_past"]


def test_a_change_made_meanwhile_is_refused_in_the_users_words(
    page: Page, storm: Storm, storm_server: str
) -> None:
    """The form was opened on the version before; the row is read again."""
    t = map_strings("en")
    props = features(page, storm_server)
    incident_id = next(i for i, p in props.items() if p["status"] == "predicted" and p["device"])
    detail = expand(page, incident_id)
    detail.locator("button.action-set_cause").click()
    with session_scope(session_factory(storm.database)) as session:
        patch = IncidentPatch(action=Action.SET_ETR, etr=datetime.now(UTC) + timedelta(hours=2))
        apply_action(session, incident_id, patch, "another dispatcher")
    page.locator(f"#incident-{incident_id}.changed").wait_for(timeout=WAIT_MS)
    detail.get_by_role("button", name=t["save"]).click()
    detail.locator(".outcome", has_text=t["error_stale_version"]).wait_for()
    detail.get_by_role("button", name=t["cancel_edit"], exact=True).click()
    detail.locator("button.action-set_cause").click()
    detail.get_by_role("button", name=t["save"]).click()
    detail.locator(".outcome", has_text=t["done"]).wait_for(timeout=WAIT_MS)
    with session_scope(session_factory(storm.database)) as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None and incident.cause is not None


def test_the_list_in_a_storm_has_no_serious_accessibility_violation(
    browser: Browser, storm_server: str, screenshots: Path
) -> None:
    """With its service outages open, a predicted incident open and its assign form shown."""
    # The page's policy forbids inline scripts; only the test bypasses it to inject axe.
    context = browser.new_context(viewport=CONTROL_ROOM, locale="vi-VN", bypass_csp=True)
    try:
        page = context.new_page()
        sign_in(page, f"{storm_server}/dispatch?lang=vi", "vi")
        page.locator("#incident-rows tr.incident-row").first.wait_for(timeout=FIRST_LOAD_MS)
        page.locator("#service-group button").click()
        page.locator('#totals .total-state[data-state="predicted"]').click()
        first = visible_ids(page)[0]
        expand(page, first).locator("button.action-assign").click()
        page.screenshot(path=str(screenshots / "dispatch-console.png"))
        assert blocking_violations(page) == []
    finally:
        context.close()


def test_a_split_sends_the_chosen_report_to_a_new_incident(
    page: Page, storm: Storm, storm_server: str
) -> None:
    t = map_strings("en")
    detail = expand(page, storm.split)
    detail.locator("button.action-split").click()
    detail.get_by_label(t["split_to"]).fill(storm.split_to)
    boxes = detail.locator(".split-reports input[type=checkbox]")
    boxes.first.wait_for(timeout=WAIT_MS)
    assert boxes.count() == 2
    moved = int(boxes.first.get_attribute("value") or 0)
    boxes.first.check()
    detail.get_by_role("button", name=t["save"]).click()
    detail.locator(".outcome", has_text=t["done"]).wait_for(timeout=WAIT_MS)
    with session_scope(session_factory(storm.database)) as session:
        report = session.get(Report, moved)
        assert report is not None and report.incident_id not in (None, storm.split)


def test_a_crew_in_the_storm_sees_its_action_wait_offline_until_it_is_sent(
    browser: Browser, storm: Storm, storm_server: str
) -> None:
    """On a phone, one of the storm's thirty crews: the pressed button says "waiting" while
    the phone is offline, and the job changes only once the server has it."""
    t = crew_strings(Language.EN)
    user = f"storm-crew-{uuid.uuid4().hex[:8]}"
    with session_scope(session_factory(storm.database)) as session:
        crew_id = storm.crews[2]
        auth.create_user(
            session, username=user, password=STAFF_PASSWORD, role=Role.CREW, crew_id=crew_id
        )
        job = session.scalars(
            select(Incident.id)
            .where(Incident.crew_id == crew_id, Incident.status == IncidentStatus.DISPATCHED)
            .order_by(Incident.id)
        ).first()
    assert job is not None
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        _, problems = watch(page)
        page.goto(f"{storm_server}/crew?lang=en")
        page.get_by_label(t["login_username"]).fill(user)
        page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name=t["login_button"], exact=True).click()
        card = page.locator(f"#job-{job}")
        context.set_offline(True)
        card.get_by_role("button", name=t["crew_on_site"], exact=True).tap()
        waiting = card.locator("button[data-action=on_site][data-pending=waiting]")
        waiting.wait_for()
        assert waiting.inner_text() == t["crew_waiting"] and waiting.is_visible()
        page.wait_for_timeout(2500)  # a retry or two fails meanwhile
        assert waiting.is_visible()
        assert card.locator(".job-status").inner_text() == t["crew_state.dispatched"]
        assert status_of(storm.database, job) is IncidentStatus.DISPATCHED
        context.set_offline(False)
        card.locator(".job-status", has_text=t["crew_state.on_site"]).wait_for(timeout=15000)
        assert status_of(storm.database, job) is IncidentStatus.ON_SITE
        assert card.locator("button[data-pending]").count() == 0
        assert not [p for p in problems if "net::ERR_INTERNET_DISCONNECTED" not in p], problems
    finally:
        context.close()


def _ask_meters(database: str, incident_id: int) -> tuple[str, str]:
    """Meters under two transformers asked about the incident: one on and one off under
    the first, one still pending under the second; the two transformers' asset refs."""
    now = datetime.now(UTC)
    with session_scope(session_factory(database)) as session:
        rows = session.execute(
            select(Device.asset_ref, Premise.id, Premise.meter_id)
            .join(Device, Device.id == Premise.transformer_id)
            .where(Premise.meter_id.is_not(None))
            .order_by(Device.asset_ref, Premise.id)
        ).all()
        under: dict[str, list[tuple[int, str]]] = {}
        for transformer, premise_id, meter_id in rows:
            under.setdefault(transformer, []).append((premise_id, meter_id))
        first, second = [t for t, meters in under.items() if len(meters) >= 2][:2]
        asked = [
            (under[first][0], PingState.ON),
            (under[first][1], PingState.OFF),
            (under[second][0], PingState.PENDING),
        ]
        for (premise_id, meter_id), state in asked:
            session.add(
                MeterPing(
                    request_id=uuid.uuid4().hex,
                    meter_id=meter_id,
                    premise_id=premise_id,
                    reason=PingReason.VERIFY_INCIDENT,
                    incident_id=incident_id,
                    asked_at=now - timedelta(minutes=2),
                    sent_at=now - timedelta(minutes=2),
                    state=state,
                    answered_at=None if state is PingState.PENDING else now,
                )
            )
    return first, second


def test_a_row_shows_what_its_meters_answered_and_its_detail_per_transformer(
    page: Page, storm: Storm, storm_server: str
) -> None:
    t = map_strings("en")
    props = features(page, storm_server)
    incident_id = next(i for i, p in props.items() if p["status"] == "confirmed" and p["device"])
    first, second = _ask_meters(storm.database, incident_id)

    badge = page.locator(f"#incident-{incident_id} .ping-badge")
    badge.locator(".ping-pending").wait_for(timeout=WAIT_MS)
    assert badge.locator(".ping-pending").inner_text() == t["ping_badge_pending"].format(n=1)
    assert badge.locator(".ping-on").inner_text() == t["ping_badge_on"].format(n=1)
    assert badge.locator(".ping-off").inner_text() == t["ping_badge_off"].format(n=1)

    detail = expand(page, incident_id)
    counts = t["pings_counts"].format(on=1, off=1, silent=0, pending=1)
    assert detail.locator("dl.facts", has_text=counts).count() == 1
    cells = ".ping-on, .ping-off, .ping-silent, .ping-pending"
    one = detail.locator(f'.ping-table tr[data-transformer="{first}"]')
    one.wait_for(timeout=WAIT_MS)
    assert one.locator(cells).all_inner_texts() == ["1", "1", "0", "0"]
    assert one.locator(".ping-reasons").inner_text() == t["ping_reason_verify_incident"]
    two = detail.locator(f'.ping-table tr[data-transformer="{second}"]')
    assert two.locator(cells).all_inner_texts() == ["0", "0", "0", "1"]
    assert two.locator(".ping-last").inner_text() == "—"
