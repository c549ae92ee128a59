"""A customer's ticket page in a real browser follows the outage: reported on /report,
restored by the crew through the API, the same page says when the power came back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import select

from grid_topology.model import GridModel
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.models import Device
from outage.incidents.changes import open_incident
from outage.incidents.evidence import EvidenceRef
from outage.intake.enums import ReportStatus
from outage.intake.models import Report
from outage.settings import get_settings
from tests.conftest import Credentials

from .test_report_page_browser import PHONE

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CUSTOMER_BAND = slice(900, 920)
"""This test reports for these customers only, after the report page's band."""


def _incident_for(database_url: str, ticket: str) -> int:
    """The engine's incident on the report's transformer, the report its evidence."""
    with session_scope(session_factory(database_url)) as session:
        report = session.scalars(select(Report).where(Report.ticket == ticket)).one()
        report.received_at = datetime.now(UTC) - timedelta(hours=1)  # before the restoration
        device = session.scalar(select(Device.asset_ref).where(Device.id == report.transformer_id))
        return open_incident(
            session,
            device_asset_ref=device,
            confidence=0.8,
            customers_affected=1,
            started_at=datetime.now(UTC) - timedelta(hours=1),
            reason="a customer's report",
            evidence=[EvidenceRef.report(report.id)],
        )


def _report_status(database_url: str, ticket: str) -> ReportStatus:
    with session_scope(session_factory(database_url)) as session:
        return session.scalars(select(Report.status).where(Report.ticket == ticket)).one()


def _act(api: httpx.Client, incident: int, headers: dict[str, str], **body: object) -> None:
    answer = api.patch(f"/api/v1/incidents/{incident}", json=body, headers=headers)
    assert answer.status_code == 200, answer.text


def test_the_ticket_page_says_when_the_crew_restored_the_power(
    browser: Browser,
    live_server: str,
    sample_grid: GridModel,
    grid_database: str,
    credentials: Credentials,
) -> None:
    premise = next(p for p in sample_grid.premises[CUSTOMER_BAND] if p.customer is not None)
    assert premise.customer is not None
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/report?lang=en")
        page.fill("#account", premise.customer.account)
        page.fill("#description", f"browser status test {uuid.uuid4()}")
        with page.expect_navigation():
            page.click("#submit")
        ticket = page.inner_text("#ticket")
        status_url = page.url

        incident = _incident_for(grid_database, ticket)
        restored_at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
        with httpx.Client(base_url=live_server) as api:
            dispatcher, crew = credentials.staff(Role.DISPATCHER), credentials.staff(Role.CREW)
            _act(api, incident, dispatcher, action="assign", crew_id=credentials.crew_id)
            _act(api, incident, crew, action="on_site")
            _act(api, incident, crew, action="restored", at=restored_at.isoformat())

        page.goto(status_url)
        page.fill("#prove-digits", premise.customer.phone[-4:])
        with page.expect_navigation():
            page.click("#prove")
        hhmm = restored_at.astimezone(get_settings().local_timezone).strftime("%H:%M")
        assert page.inner_text("#progress-text") == f"Ticket {ticket}: power restored at {hhmm}."
        assert _report_status(grid_database, ticket) is ReportStatus.CLOSED
        assert premise.customer.phone not in page.inner_text("main")
    finally:
        context.close()
