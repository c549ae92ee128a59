"""The crew page in a real browser on a phone's screen: sign in, see the job, report on it,
and report switching and damage through the offline queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.app import create_app
from outage.auth import service as auth
from outage.auth.enums import Role
from outage.crews.models import DamageAssessment
from outage.db import session_factory, session_scope
from outage.grid.enums import SwitchSource
from outage.grid.models import Device, SwitchOperation
from outage.i18n import Language
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.enums import Action
from outage.incidents.schemas import IncidentPatch
from outage.pages.crew import strings as crew_strings
from tests.conftest import STAFF_PASSWORD, make_crew, own_database, plan_first_visit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Route, ViewportSize

PHONE: ViewportSize = {"width": 360, "height": 740}


def _job_for(database_url: str, crew_id: int, device: str) -> int:
    """An outage on `device`, assigned to the crew."""
    with session_scope(session_factory(database_url)) as session:
        incident = open_incident(
            session,
            device_asset_ref=device,
            confidence=0.9,
            customers_affected=17,
            started_at=datetime.now(UTC) - timedelta(minutes=20),
            reason="crew browser test",
        )
        apply_action(
            session, incident, IncidentPatch(action=Action.ASSIGN, crew_id=crew_id), "test"
        )
    return incident


def _crew_with_a_job(database_url: str, device: str) -> tuple[str, int, int]:
    """A crew on shift, a member of it (their username), and an outage assigned to it."""
    tag = uuid.uuid4().hex[:8]
    with session_scope(session_factory(database_url)) as session:
        crew_id = make_crew(session, f"browser crew {tag}")
        user = f"crew-browser-{tag}"
        auth.create_user(
            session, username=user, password=STAFF_PASSWORD, role=Role.CREW, crew_id=crew_id
        )
    return user, crew_id, _job_for(database_url, crew_id, device)


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


@pytest.fixture(scope="module")
def switching_server(
    database_url: str,
    sample_grid: GridModel,
    serve: Callable[[FastAPI], AbstractContextManager[str]],
) -> Iterator[tuple[str, str]]:
    """A server on a database of its own: the crew's switching changes the network."""
    with (
        own_database(database_url, "outage_crewsw", sample_grid) as url,
        serve(create_app(url)) as served,
    ):
        yield served, url


def _sign_in(page: Page, url: str, user: str) -> None:
    t = crew_strings(Language.EN)
    page.goto(url)
    page.get_by_label(t["login_username"]).fill(user)
    page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name=t["login_button"], exact=True).click()


def _operations(database_url: str, asset_ref: str) -> list[SwitchOperation]:
    with session_scope(session_factory(database_url)) as session:
        found = session.scalars(
            select(SwitchOperation)
            .join(Device, Device.id == SwitchOperation.device_id)
            .where(Device.asset_ref == asset_ref)
        ).all()
        session.expunge_all()
    return list(found)


def _is_open(database_url: str, asset_ref: str) -> bool:
    with session_scope(session_factory(database_url)) as session:
        return bool(session.scalar(select(Device.is_open).where(Device.asset_ref == asset_ref)))


def test_a_switching_report_made_offline_is_queued_then_recorded_once_at_the_pressed_time(
    browser: Browser,
    switching_server: tuple[str, str],
    sample_grid: GridModel,
    screenshots: Path,
) -> None:
    server, database = switching_server
    fuse = next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE)
    switch = [
        d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.SWITCH and not d.is_open
    ][-1]
    user, crew_id, _ = _crew_with_a_job(database, fuse)
    t = crew_strings(Language.EN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        _sign_in(page, f"{server}/crew?lang=en", user)
        form = page.locator("#switch-form")
        assert page.locator(f'#switch-devices option[value="{fuse}"]').count() == 1

        # Typing searches every switchable device while online.
        form.get_by_label(t["crew_switching_device"]).fill(switch[1:])
        page.locator(f'#switch-devices option.found[value="{switch}"]').wait_for(state="attached")

        form.get_by_label(t["crew_switching_device"]).fill(switch)
        form.get_by_label(t["crew_switching_note"]).fill("<b>isolating</b> the fault")
        context.set_offline(True)
        before = datetime.now(UTC)
        form.get_by_role("button", name=t["crew_switching_send"], exact=True).tap()
        after = datetime.now(UTC)
        queued = page.locator("#switch-reports li[data-state=queued]")
        queued.wait_for()
        assert t["crew_switch_queued"] in queued.inner_text()
        assert switch in queued.inner_text()
        page.wait_for_timeout(2500)  # a retry or two fails meanwhile
        assert page.locator("#switch-reports li[data-state=queued]").count() == 1
        assert _operations(database, switch) == [] and not _is_open(database, switch)
        page.screenshot(path=str(screenshots / "crew-switching-queued.png"), full_page=True)

        # The first send reaches the server but its answer is lost: the phone sends again.
        sent: list[Request] = []

        def lose_first_answer(route: Route, request: Request) -> None:
            sent.append(request)
            if len(sent) == 1:
                route.fetch()
                route.abort()
            else:
                route.continue_()

        page.route("**/api/v1/grid/operations", lose_first_answer)
        online_at = datetime.now(UTC)
        context.set_offline(False)
        recorded = page.locator("#switch-reports li[data-state=recorded]")
        recorded.wait_for(timeout=15000)
        assert t["crew_switch_recorded.open"].format(device=switch) in recorded.inner_text()
        assert len(sent) == 2
        keys = {request.headers["idempotency-key"] for request in sent}
        assert len(keys) == 1

        [operation] = _operations(database, switch)
        assert (operation.source, operation.actor) == (SwitchSource.CREW, user)
        assert operation.reason == "<b>isolating</b> the fault"
        assert before - timedelta(seconds=1) <= operation.occurred_at <= after
        assert operation.occurred_at < online_at
        assert _is_open(database, switch)
        queue_left = page.evaluate(
            f"JSON.parse(localStorage.getItem('outage-crew-queue-{crew_id}') || '[]').length"
        )
        assert queue_left == 0

        # A device we do not have is refused in the reader's words; the text stays text.
        form.get_by_label(t["crew_switching_device"]).fill("<b>no such</b> device")
        form.get_by_role("button", name=t["crew_switching_send"], exact=True).tap()
        refused = page.locator("#switch-reports li[data-state=refused]")
        refused.wait_for()
        assert (
            t["crew_switch_refused.unknown_device"].format(device="<b>no such</b> device")
            in refused.inner_text()
        )
        assert page.locator("#switch-reports b").count() == 0
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide on a 360 px screen"
        page.screenshot(path=str(screenshots / "crew-switching.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def test_a_fault_found_below_the_job_offline_is_queued_then_places_the_job_there(
    browser: Browser,
    live_server: str,
    grid_database: str,
    sample_grid: GridModel,
    screenshots: Path,
) -> None:
    fuse = [d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE][5]
    elsewhere = [d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE][-1]
    normal = Topology(Network.from_model(sample_grid))
    line = next(
        ref
        for ref in normal.downstream(fuse).devices
        if normal.network.links[ref].kind is DeviceKind.LINE
    )
    user, crew_id, incident = _crew_with_a_job(grid_database, fuse)
    t = crew_strings(Language.EN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        _sign_in(page, f"{live_server}/crew?lang=en", user)
        card = page.locator(f"#job-{incident}")
        card.get_by_role("button", name=t["crew_on_site"], exact=True).tap()
        card.locator(".job-message", has_text=t["crew_sent"]).wait_for()

        # Opening the form fetches the devices at and below the job's, kept for offline.
        card.locator("details.found summary").tap()
        card.locator(f'datalist option[value="{line}"]').wait_for(state="attached")
        assert card.locator("datalist option").first.get_attribute("value") == fuse
        kept = page.evaluate(f"localStorage.getItem('outage-crew-below-{crew_id}-{incident}')")
        assert line in kept

        form = card.locator("form.found-form")
        context.set_offline(True)
        form.get_by_label(t["crew_found_device"]).fill(line)
        form.get_by_label(t["crew_found_note"]).fill("<b>tree</b> on the line")
        form.get_by_role("button", name=t["crew_found_send"], exact=True).tap()
        state = card.locator(".found-state[data-state=queued]")
        state.wait_for()
        assert t["crew_found_queued"].format(device=line) in state.inner_text()
        page.wait_for_timeout(2000)  # a retry fails meanwhile
        assert (
            context.request.get(f"{live_server}/api/v1/incidents/{incident}").json()["device"][
                "asset_ref"
            ]
            == fuse
        )
        page.screenshot(path=str(screenshots / "crew-fault-queued.png"), full_page=True)

        context.set_offline(False)
        card.locator(".found-state[data-state=recorded]").wait_for(timeout=15000)
        assert line in card.locator(".job-device").inner_text()
        found = context.request.get(f"{live_server}/api/v1/incidents/{incident}").json()
        assert (found["device"]["asset_ref"], found["status"]) == (line, "on_site")
        assert found["events"][-1]["reason"] == "<b>tree</b> on the line"

        # A device outside the job's area is refused in the reader's words.
        card.locator("details.found summary").tap()
        form.get_by_label(t["crew_found_device"]).fill(elsewhere)
        form.get_by_role("button", name=t["crew_found_send"], exact=True).tap()
        refused = card.locator(".found-state[data-state=refused]")
        refused.wait_for()
        assert t["crew_found_refused.outside_area"].format(device=elsewhere) in refused.inner_text()
        assert card.locator("b").count() == 0
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide on a 360 px screen"
        page.screenshot(path=str(screenshots / "crew-fault-found.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def _fuses(sample_grid: GridModel) -> list[str]:
    return [d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE]


def test_an_action_offline_waits_on_its_button_and_changes_the_job_only_once_sent(
    browser: Browser, live_server: str, grid_database: str, sample_grid: GridModel
) -> None:
    user, _, incident = _crew_with_a_job(grid_database, _fuses(sample_grid)[8])
    t = crew_strings(Language.EN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        _sign_in(page, f"{live_server}/crew?lang=en", user)
        card = page.locator(f"#job-{incident}")
        context.set_offline(True)
        card.get_by_role("button", name=t["crew_on_site"], exact=True).tap()

        waiting = card.locator("button[data-action=on_site][data-pending=waiting]")
        waiting.wait_for()
        assert waiting.inner_text() == t["crew_waiting"]
        assert waiting.is_disabled() and waiting.is_visible()
        page.wait_for_timeout(2500)  # a retry or two fails meanwhile
        assert waiting.is_visible()
        assert card.locator(".job-status").inner_text() == t["crew_state.dispatched"]
        assert not card.locator("form.restore").is_visible()
        assert _status(grid_database, incident)[0] == "dispatched"

        context.set_offline(False)
        card.locator(".job-status", has_text=t["crew_state.on_site"]).wait_for(timeout=15000)
        assert _status(grid_database, incident)[0] == "on_site"
        assert card.locator("form.restore").is_visible()
        assert card.locator("button[data-pending]").count() == 0
        assert problems == []
    finally:
        context.close()


def test_an_action_is_sending_on_its_button_and_a_refusal_is_said_beside_it(
    browser: Browser, live_server: str, grid_database: str, sample_grid: GridModel
) -> None:
    user, _, incident = _crew_with_a_job(grid_database, _fuses(sample_grid)[9])
    t = crew_strings(Language.EN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        _sign_in(page, f"{live_server}/crew?lang=en", user)
        card = page.locator(f"#job-{incident}")
        held: list[Route] = []
        pattern = f"**/api/v1/incidents/{incident}"
        page.route(
            pattern,
            lambda route: (
                held.append(route) if route.request.method == "PATCH" else route.continue_()
            ),
        )
        card.get_by_role("button", name=t["crew_en_route"], exact=True).tap()
        sending = card.locator("button[data-action=en_route][data-pending=sending]")
        sending.wait_for()
        assert sending.inner_text() == t["crew_sending"]

        # Meanwhile the job went on: the crew reached it by another phone.
        with session_scope(session_factory(grid_database)) as session:
            apply_action(session, incident, IncidentPatch(action=Action.ON_SITE), "test")
        held[0].continue_()

        refusal = card.locator("button[data-action=en_route] + .refusal")
        refusal.wait_for(state="attached")
        expected = t["crew_refused.409"].format(status=t["crew_state.on_site"])
        assert refusal.inner_text() == expected
        assert refusal.get_attribute("role") == "alert"
        assert card.locator(".job-status").inner_text() == t["crew_state.on_site"]
    finally:
        context.close()


def test_a_new_job_appears_and_is_announced_without_a_reload_keeping_a_started_form(
    browser: Browser, live_server: str, grid_database: str, sample_grid: GridModel
) -> None:
    fuses = _fuses(sample_grid)
    user, crew_id, incident = _crew_with_a_job(grid_database, fuses[10])
    t = crew_strings(Language.EN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.clock.install()
        _sign_in(page, f"{live_server}/crew?lang=en", user)
        card = page.locator(f"#job-{incident}")
        card.locator("details.found summary").tap()
        note = card.get_by_label(t["crew_found_note"])
        note.fill("half written")
        page.evaluate("window.scrollTo(0, 200)")
        seen_at = card.bounding_box()

        added = _job_for(grid_database, crew_id, fuses[11])
        page.clock.fast_forward(30_000)
        page.locator(f"#job-{added}").wait_for()

        banner = page.locator("#crew-new-jobs")
        assert banner.is_visible() and banner.get_attribute("aria-live") == "polite"
        assert t["crew_new_job"].format(title=t["crew_job"].format(n=2)) in banner.inner_text()
        assert note.input_value() == "half written"
        now_at = card.bounding_box()
        assert seen_at is not None and now_at is not None
        assert abs(now_at["y"] - seen_at["y"]) <= 1, "what the crew was looking at stays put"
        banner.get_by_role("link").tap()
        assert not banner.is_visible() and page.url.endswith(f"#job-{added}")
        page.locator(f"#job-{added}").get_by_role(
            "button", name=t["crew_on_site"], exact=True
        ).tap()
        page.locator(f"#job-{added} .job-status", has_text=t["crew_state.on_site"]).wait_for()
        assert _status(grid_database, added)[0] == "on_site"
        assert problems == []
    finally:
        context.close()


def test_the_jobs_map_draws_the_network_with_no_map_tiles(
    browser: Browser,
    live_server: str,
    grid_database: str,
    sample_grid: GridModel,
    screenshots: Path,
) -> None:
    fuse = _fuses(sample_grid)[12]
    user, _, incident = _crew_with_a_job(grid_database, fuse)
    t = crew_strings(Language.EN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        elsewhere: list[str] = []

        def only_our_server(route: Route, request: Request) -> None:
            if request.url.startswith(live_server):
                route.continue_()
            else:
                elsewhere.append(request.url)
                route.abort()

        page.route("**/*", only_our_server)
        _sign_in(page, f"{live_server}/crew?lang=en", user)
        card = page.locator(f"#job-{incident}")
        sketch = card.locator("svg.sketch")
        assert not sketch.is_visible(), "folded away until asked for"

        card.get_by_text(t["crew_map_show"], exact=True).tap()
        assert sketch.is_visible()
        box = sketch.bounding_box()
        assert box is not None and box["width"] > 250 and box["height"] > 250
        assert sketch.locator("g.line polyline").count() > 0
        job = sketch.locator("g.job")
        assert job.count() == 1 and job.locator("title").text_content() == fuse
        drawn = job.bounding_box()
        assert drawn is not None and drawn["width"] > 0
        assert fuse in card.locator(".sketch-legend").inner_text()
        assert elsewhere == []
        page.screenshot(path=str(screenshots / "crew-sketch.png"), full_page=True)
    finally:
        context.close()


def test_an_on_site_job_shows_no_planned_arrival(
    browser: Browser, live_server: str, grid_database: str, sample_grid: GridModel
) -> None:
    user, crew_id, incident = _crew_with_a_job(grid_database, _fuses(sample_grid)[13])
    with session_scope(session_factory(grid_database)) as session:
        plan_first_visit(session, crew_id, incident, datetime.now(UTC) + timedelta(minutes=30))
    t = crew_strings(Language.EN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        _sign_in(page, f"{live_server}/crew?lang=en", user)
        card = page.locator(f"#job-{incident}")
        arrival = card.locator(".job-arrival")
        assert arrival.is_visible()

        card.get_by_role("button", name=t["crew_on_site"], exact=True).tap()
        card.locator(".job-status", has_text=t["crew_state.on_site"]).wait_for()
        assert not arrival.is_visible()
        assert t["crew_arrival"] not in card.inner_text()
        page.reload()
        assert page.locator(f"#job-{incident} .job-arrival").count() == 0
    finally:
        context.close()


def _assessments(database_url: str, **where: Any) -> list[DamageAssessment]:
    with session_scope(session_factory(database_url)) as session:
        found = session.scalars(select(DamageAssessment).filter_by(**where)).all()
        session.expunge_all()
    return list(found)


def _queued(page: Page, crew_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = page.evaluate(
        f"JSON.parse(localStorage.getItem('outage-crew-queue-{crew_id}') || '[]')"
    )
    return items


def test_damage_assessed_offline_is_kept_in_the_phone_then_recorded_once_at_the_pressed_time(
    browser: Browser,
    live_server: str,
    grid_database: str,
    sample_grid: GridModel,
    screenshots: Path,
) -> None:
    user, crew_id, incident = _crew_with_a_job(grid_database, _fuses(sample_grid)[14])
    t = crew_strings(Language.EN)
    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        _sign_in(page, f"{live_server}/crew?lang=en", user)
        card = page.locator(f"#job-{incident}")
        card.locator("details.damage summary").tap()
        form = card.locator("form.damage-form")
        form.get_by_label(t["crew_damage.poles_down"]).fill("2")
        form.get_by_label(t["crew_damage.spans_down"]).fill("3")
        form.get_by_label(t["crew_damage_access"]).select_option("blocked")
        form.get_by_label(t["crew_damage_crew_type"]).select_option("vegetation")
        form.get_by_label(t["crew_damage_hours"]).fill("6.5")
        form.get_by_label(t["crew_damage_note"]).fill("<b>two</b> poles snapped")

        context.set_offline(True)
        before = datetime.now(UTC)
        form.get_by_role("button", name=t["crew_damage_send"], exact=True).tap()
        after = datetime.now(UTC)
        state = card.locator(".damage-state[data-state=queued]")
        state.wait_for()
        page.wait_for_timeout(2500)  # a retry or two fails meanwhile
        assert card.locator(".damage-state[data-state=queued]").count() == 1
        [kept] = _queued(page, crew_id)
        assert (kept["kind"], kept["body"]["incident_id"]) == ("damage", incident)
        assert _assessments(grid_database, incident_id=incident) == []
        page.screenshot(path=str(screenshots / "crew-damage-queued.png"), full_page=True)

        # The first send reaches the server but its answer is lost: the phone sends again.
        sent: list[Request] = []

        def lose_first_answer(route: Route, request: Request) -> None:
            sent.append(request)
            if len(sent) == 1:
                route.fetch()
                route.abort()
            else:
                route.continue_()

        page.route("**/api/v1/damage-assessments", lose_first_answer)
        online_at = datetime.now(UTC)
        context.set_offline(False)
        card.locator(".damage-state[data-state=recorded]").wait_for(timeout=15000)
        assert len(sent) == 2
        assert len({request.headers["idempotency-key"] for request in sent}) == 1

        [row] = _assessments(grid_database, incident_id=incident)
        assert (row.crew_id, row.reported_by) == (crew_id, user)
        assert (row.poles_down, row.spans_down, row.access.value) == (2, 3, "blocked")
        assert (row.crew_type_needed.value, row.hours_needed) == ("vegetation", 6.5)
        assert row.note == "<b>two</b> poles snapped"
        assert before - timedelta(seconds=1) <= row.assessed_at <= after
        assert row.assessed_at < online_at
        assert _queued(page, crew_id) == []
        assert page.locator("#jobs b").count() == 0
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide on a 360 px screen"
        page.screenshot(path=str(screenshots / "crew-damage.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def test_damage_where_no_job_is_is_placed_at_the_phones_position(
    browser: Browser, live_server: str, grid_database: str, sample_grid: GridModel
) -> None:
    user, crew_id, _ = _crew_with_a_job(grid_database, _fuses(sample_grid)[15])
    t = crew_strings(Language.VI)
    context = browser.new_context(
        viewport=PHONE,
        locale="vi-VN",
        has_touch=True,
        is_mobile=True,
        geolocation={"latitude": 21.0312, "longitude": 105.8521},
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        _sign_in(page, f"{live_server}/crew?lang=en", user)
        page.goto(f"{live_server}/crew?lang=vi")
        form = page.locator("#report-damage form.damage-form")
        form.get_by_role("button", name=t["crew_damage_send"], exact=True).tap()
        problem = form.locator(".damage-problem")
        assert problem.inner_text() == t["crew_damage_incomplete"]

        form.get_by_label(t["crew_damage.trees_on_line"]).fill("1")
        form.get_by_label(t["crew_damage_crew_type"]).select_option("vegetation")
        form.get_by_label(t["crew_damage_hours"]).fill("2")
        form.get_by_role("button", name=t["crew_damage_send"], exact=True).tap()
        page.locator("#report-damage .damage-state[data-state=recorded]").wait_for(timeout=15000)
        assert problem.is_hidden()
        [row] = [r for r in _assessments(grid_database, crew_id=crew_id) if r.incident_id is None]
        assert row.trees_on_line == 1
        with session_scope(session_factory(grid_database)) as session:
            lon, lat = session.execute(
                text(
                    "SELECT ST_X(location), ST_Y(location) FROM damage_assessments WHERE id = :id"
                ),
                {"id": row.id},
            ).one()
        assert (round(lat, 4), round(lon, 4)) == (21.0312, 105.8521)
        assert problems == []
    finally:
        context.close()
