"""What a customer typed is shown as text on the dispatcher's map, in popups and in the
panel: a description made of markup shows the markup, runs nothing and loads nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from grid_topology.model import GridModel
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Premise
from outage.i18n import strings
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.enums import Action
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.settings import Settings
from tests.browser.conftest import focused
from tests.conftest import STAFF_PASSWORD, issue_credentials, own_database, username

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog

ATTACK = "<img src=x onerror=alert(1)>"
CAUSE_ATTACK = "<script>alert(2)</script><b>bold</b>"


@pytest.fixture(scope="module")
def xss_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_xss", sample_grid) as url:
        issue_credentials(url, roles=[Role.DISPATCHER], scopes=[])
        yield url


@pytest.fixture(scope="module")
def xss_server(
    xss_database: str, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> Iterator[str]:
    offline = Settings(map_tile_url="", map_poll_seconds=1.0)
    with serve(create_app(xss_database, offline)) as url:
        yield url


def _plant(database: str) -> tuple[int, int]:
    """A customer's report with markup for a description, on an incident whose cause a
    careless hand typed as markup too."""
    with session_scope(session_factory(database)) as session:
        account = session.scalars(select(Customer.account).order_by(Customer.id).limit(1)).one()
        premise_id = session.scalars(
            select(Premise.id).join(Customer).where(Customer.account == account)
        ).one()
        incident_id = open_incident(
            session,
            account=account,
            confidence=0.6,
            customers_affected=1,
            started_at=datetime.now(UTC) - timedelta(minutes=3),
            reason="xss test",
        )
        patch = IncidentPatch(action=Action.SET_CAUSE, cause=CAUSE_ATTACK)
        apply_action(session, incident_id, patch, "test")
        report = Report(
            ticket=f"XSS{uuid.uuid4().hex[:8].upper()}",
            channel=Channel.WEB,
            status=ReportStatus.RECEIVED,
            description=ATTACK,
            premise_id=premise_id,
            incident_id=incident_id,
            match_method=MatchMethod.ACCOUNT,
            match_confidence=1.0,
            candidates=[],
        )
        session.add(report)
        session.flush()
        return report.id, incident_id


def test_markup_from_a_customer_shows_as_text(
    browser: Browser, xss_server: str, xss_database: str
) -> None:
    report_id, incident_id = _plant(xss_database)
    t = strings("en")
    dialogs: list[str] = []
    requested: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()

        def dismiss(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{xss_server}/dispatch?lang=en")
        page.get_by_label(t["login_username"]).fill(username(Role.DISPATCHER))
        page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name=t["login_button"], exact=True).click()

        # The report sits in a cluster: zoom to it and open its popup, as a click would.
        page.locator("path.report-marker, .marker-cluster").first.wait_for()
        # The map refreshes every second; a refresh in the middle of the zoom may drop the
        # callback, so each try gives up after a while instead of waiting forever.
        opened = False
        for _ in range(3):
            opened = page.evaluate(
                """(id) => new Promise((done) => {
                    setTimeout(() => done(false), 10000);
                    OutageMaps.when("reports", (live) => {
                        const marker = live.getLayer(id);
                        live._container.zoomToShowLayer(marker, () => {
                            marker.openPopup();
                            done(true);
                        });
                    });
                })""",
                report_id,
            )
            if opened:
                break
        assert opened, "the report's marker never opened its popup"
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert ATTACK in popup.inner_text()
        assert popup.locator("img").count() == 0

        page.locator("#service-group button").click()  # a single service's outage
        page.locator(f"#incident-{incident_id} .locate").click()  # its facts, and its popup
        detail = page.locator(f"#incident-{incident_id}-detail")
        detail.wait_for()
        assert CAUSE_ATTACK in detail.inner_text()
        row = page.locator(f"#incident-{incident_id}, #incident-{incident_id}-detail")
        assert row.locator("script, b").count() == 0
        popup = page.locator(".leaflet-popup-content", has_text=CAUSE_ATTACK)
        focused(page, incident_id, popup, 30_000)
        page.wait_for_timeout(500)  # an onerror would have fired by now
        assert dialogs == []
        assert not [url for url in requested if url.rstrip("/").endswith("/x")]
    finally:
        context.close()
