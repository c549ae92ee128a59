"""A customer's ticket page in a real browser follows the outage: reported on /report,
restored by the crew through the API, the same page says when the power came back, and
the SMS status reply and Open311 say the same."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import select

from grid_topology.model import Customer, GridModel
from outage.auth.enums import Role, Scope
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
    from playwright.sync_api import Browser, Page

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


def _report_on_the_form(page: Page, live_server: str, account: str) -> str:
    """File an outage report on /report as a customer does; its ticket."""
    page.goto(f"{live_server}/report?lang=en")
    page.fill("#account", account)
    page.fill("#description", f"browser status test {uuid.uuid4()}")
    with page.expect_navigation():
        page.click("#submit")
    return page.inner_text("#ticket")


def _restore_as_the_crew(
    live_server: str, credentials: Credentials, grid_database: str, ticket: str
) -> datetime:
    """The dispatcher sends a crew to the report's outage, which restores it; when."""
    incident = _incident_for(grid_database, ticket)
    restored_at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    with httpx.Client(base_url=live_server) as api:
        dispatcher, crew = credentials.staff(Role.DISPATCHER), credentials.staff(Role.CREW)
        _act(api, incident, dispatcher, action="assign", crew_id=credentials.crew_id)
        _act(api, incident, crew, action="on_site")
        _act(api, incident, crew, action="restored", at=restored_at.isoformat())
    return restored_at


def _progress_on_the_page(page: Page, status_url: str, phone: str) -> str:
    page.goto(status_url)
    page.fill("#prove-digits", phone[-4:])
    with page.expect_navigation():
        page.click("#prove")
    return page.inner_text("#progress-text")


def _customers(sample_grid: GridModel) -> list[Customer]:
    return [p.customer for p in sample_grid.premises[CUSTOMER_BAND] if p.customer is not None]


def test_the_ticket_page_says_when_the_crew_restored_the_power(
    browser: Browser,
    live_server: str,
    sample_grid: GridModel,
    grid_database: str,
    credentials: Credentials,
) -> None:
    customer = _customers(sample_grid)[0]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    try:
        page = context.new_page()
        ticket = _report_on_the_form(page, live_server, customer.account)
        status_url = page.url
        restored_at = _restore_as_the_crew(live_server, credentials, grid_database, ticket)

        progress = _progress_on_the_page(page, status_url, customer.phone)
        hhmm = restored_at.astimezone(get_settings().local_timezone).strftime("%H:%M")
        assert progress.startswith(
            f"Ticket {ticket}: power restored at {hhmm}"
        )  # a date after midnight
        assert _report_status(grid_database, ticket) is ReportStatus.CLOSED
        assert customer.phone not in page.inner_text("main")
    finally:
        context.close()


def test_the_sms_reply_and_open311_say_what_the_ticket_page_says(
    browser: Browser,
    live_server: str,
    sample_grid: GridModel,
    grid_database: str,
    credentials: Credentials,
) -> None:
    customer = _customers(sample_grid)[1]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    try:
        page = context.new_page()
        ticket = _report_on_the_form(page, live_server, customer.account)
        status_url = page.url
        restored_at = _restore_as_the_crew(live_server, credentials, grid_database, ticket)
        progress = _progress_on_the_page(page, status_url, customer.phone)
    finally:
        context.close()
    with httpx.Client(base_url=live_server) as api:
        sms = api.post(
            "/api/v1/channels/sms",
            json={"sender": customer.phone, "text": f"STATUS {ticket}"},
            headers=credentials.key(Scope.CHANNELS),
        )
        open311 = api.get(f"/open311/v2/requests/{ticket}.json", params={"lang": "en"})
    assert sms.status_code == 200, sms.text
    assert open311.status_code == 200, open311.text
    [request] = open311.json()

    hhmm = restored_at.astimezone(get_settings().local_timezone).strftime("%H:%M")
    assert progress.startswith(
        f"Ticket {ticket}: power restored at {hhmm}"
    )  # a date after midnight
    assert (request["status"], request["status_notes"]) == ("closed", progress)
    assert datetime.fromisoformat(request["updated_datetime"]) == restored_at
    assert ticket in sms.json()["reply"] and hhmm in sms.json()["reply"]  # customer's language
    assert _report_status(grid_database, ticket) is ReportStatus.CLOSED
    for personal in (customer.phone, customer.name, customer.account):
        assert personal not in sms.text and personal not in open311.text
