"""A supervisor declares a storm: the public map and a customer's ticket page stop giving
the outage's time and say the damage is being assessed. A server and a database of their
own, so the storm reaches no other suite."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Topology
from maps.strings import strings as map_strings
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.models import Device, GridNode, Premise
from outage.grid.service import load_network
from outage.i18n import Language, catalogue
from outage.incidents.changes import open_incident, set_etr
from outage.incidents.evidence import EvidenceRef
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.settings import Settings
from outage.tickets import TICKET_ALPHABET
from tests.browser.test_maps_browser import PHONE, watch
from tests.conftest import Credentials, issue_credentials, own_database

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

POLL_S = 1.0
CALLER = "+84901112233"


@pytest.fixture(scope="module")
def database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_stormpage", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str, serve: Callable[[FastAPI], AbstractContextManager[str]]) -> Iterator[str]:
    settings = Settings(map_poll_seconds=POLL_S, map_cache_seconds=POLL_S)
    with serve(create_app(database, settings)) as url:
        yield url


@pytest.fixture(scope="module")
def credentials(database: str) -> Credentials:
    return issue_credentials(database, roles=[Role.SUPERVISOR])


@pytest.fixture(scope="module")
def ticket(database: str) -> str:
    """A customer's report of an outage at the busiest transformer, which has a time."""
    sessions = session_factory(database)
    ticket = f"{datetime.now(UTC):%y%m%d}-" + "".join(
        secrets.choice(TICKET_ALPHABET) for _ in range(5)
    )
    with session_scope(sessions) as session:
        topology = Topology(load_network(session))
        counts = topology.customer_counts()
        transformers = session.scalars(
            select(Device.asset_ref).where(Device.kind == DeviceKind.TRANSFORMER)
        )
        busiest = max(transformers, key=lambda ref: (counts.get(ref, 0), ref))
        premise = session.scalars(
            select(Premise.id)
            .join(GridNode, GridNode.id == Premise.node_id)
            .where(GridNode.ref.in_(topology.downstream(busiest).nodes))
            .order_by(Premise.id)
            .limit(1)
        ).one()
        report = Report(
            ticket=ticket,
            channel=Channel.WEB,
            status=ReportStatus.RECEIVED,
            phone=CALLER,
            premise_id=premise,
            match_method=MatchMethod.ADDRESS,
            match_confidence=1.0,
            candidates=[],
        )
        session.add(report)
        session.flush()
        incident = open_incident(
            session,
            device_asset_ref=busiest,
            confidence=0.8,
            customers_affected=counts.get(busiest, 1),
            started_at=datetime.now(UTC) - timedelta(minutes=20),
            reason="a customer's report",
            evidence=[EvidenceRef.report(report.id)],
        )
        etr = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
        set_etr(
            session, incident, etr=etr, likely=(etr - timedelta(hours=1), etr + timedelta(hours=1))
        )
    return ticket


def _ticket_page(page: Page, server: str, ticket: str) -> str:
    page.goto(f"{server}/status/{ticket}?lang=en")
    page.fill("#prove-digits", CALLER[-4:])
    with page.expect_navigation():
        page.click("#prove")
    return page.inner_text("#progress-text")


def _area_row(page: Page, server: str) -> str:
    page.goto(f"{server}/map?lang=en")
    row = page.locator("#area-rows tr").first
    row.wait_for(timeout=POLL_S * 10000)
    return row.inner_text()


def test_declaring_a_storm_turns_times_into_assessing_damage(
    browser: Browser, server: str, ticket: str, credentials: Credentials
) -> None:
    t = map_strings("en")
    assessing = catalogue("channels", Language.EN)["progress.assessing_damage"]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.route("**/tiles*/**", lambda route: route.abort())
    _, problems = watch(page)
    try:
        before = _ticket_page(page, server, ticket)
        assert "likely between" in before and assessing not in before
        assert "likely between" in _area_row(page, server)

        declared = httpx.post(
            f"{server}/api/v1/storms",
            json={"name": "Yagi", "level": 3},
            headers=credentials.staff(Role.SUPERVISOR),
        )
        assert declared.status_code == 201, declared.text

        after = _ticket_page(page, server, ticket)
        assert assessing in after and "likely between" not in after
        page.goto(f"{server}/map?lang=en")
        page.locator("#area-rows tr", has_text=t["etr_unknown"]).first.wait_for(
            timeout=POLL_S * 10000
        )
        assert "likely between" not in page.locator("#area-rows").inner_text()
        assert not problems, problems
    finally:
        context.close()
