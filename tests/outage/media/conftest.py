"""A database of the photos' own with the sample grid (their incidents and reports stay
out of other suites'), its staff and app; a rolled-back session; reports and incidents to
hang photos on."""

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from grid_topology.model import GridModel
from outage.app import create_app
from outage.db import session_factory, session_scope
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.enums import Action, IncidentKind
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import Channel, Hazard, MatchMethod, ReportStatus
from outage.intake.models import Report
from tests.conftest import Credentials, issue_credentials, own_database, rolled_back


@pytest.fixture(scope="package")
def media_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_media", sample_grid) as url:
        yield url


@pytest.fixture(scope="package")
def media_credentials(media_database: str) -> Credentials:
    return issue_credentials(media_database)


@pytest.fixture(scope="package")
def media_app(media_database: str, media_credentials: Credentials) -> FastAPI:
    return create_app(media_database)


@pytest.fixture
def anyone(media_app: FastAPI) -> Iterator[TestClient]:
    """No credentials; each request says whose it is in its headers."""
    with TestClient(media_app) as client:
        yield client


@pytest.fixture
def session(media_database: str) -> Iterator[Session]:
    with rolled_back(media_database) as unit:
        yield unit


@pytest.fixture
def add_report() -> Callable[[Session], int]:
    """An unplaced report, as intake stores one; returns its id."""

    def add(db: Session) -> int:
        report = Report(
            ticket=f"P-{secrets.token_hex(5).upper()}",
            channel=Channel.API,
            status=ReportStatus.RECEIVED,
            match_method=MatchMethod.NONE,
            match_confidence=0.0,
            candidates=[],
        )
        db.add(report)
        db.flush()
        return report.id

    return add


@pytest.fixture
def new_incident(media_database: str) -> Callable[[int | None], int]:
    """A hazard incident (no device, no customers), assigned to the crew if one is given."""

    def make(crew_id: int | None = None) -> int:
        with session_scope(session_factory(media_database)) as db:
            incident = open_incident(
                db,
                kind=IncidentKind.HAZARD,
                hazard=Hazard.TREE_ON_LINE,
                confidence=0.5,
                customers_affected=0,
                started_at=datetime.now(UTC) - timedelta(minutes=5),
                reason="photos",
            )
            if crew_id is not None:
                apply_action(
                    db, incident, IncidentPatch(action=Action.ASSIGN, crew_id=crew_id), "t"
                )
        return incident

    return make
