"""A database of access control's own with the sample grid, its staff and keys, and clients.

The matrix walk, the privacy test and the schemathesis run file reports and act on
incidents: on a database of their own they cannot disturb another suite's customers.
"""

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from grid_topology.model import GridModel
from outage.app import create_app
from outage.db import session_factory, session_scope
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.enums import Action, IncidentKind
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import Hazard
from tests.conftest import STAFF_PASSWORD, Credentials, issue_credentials, own_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each test schemathesis makes per API operation the operation in its node id.

    Under pytest 9 they all get the id of the function they come from; parallel workers
    are handed tests by id, so all but one of them would never run.
    """
    for item in items:
        label = getattr(item, "operation_label", None)
        if label is not None and not item.nodeid.endswith("]"):
            item._id = item._id.with_params(label)


@pytest.fixture(scope="package")
def auth_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_auth", sample_grid) as url:
        yield url


@pytest.fixture(scope="package")
def auth_credentials(auth_database: str) -> Credentials:
    return issue_credentials(auth_database)


@pytest.fixture(scope="package")
def auth_app(auth_database: str, auth_credentials: Credentials) -> FastAPI:
    return create_app(auth_database)


@pytest.fixture(scope="package")
def anyone(auth_app: FastAPI) -> Iterator[TestClient]:
    """No credentials, no cookies kept between tests' requests beyond what they set."""
    with TestClient(auth_app) as client:
        yield client


@pytest.fixture
def fresh_client(auth_app: FastAPI) -> Iterator[TestClient]:
    """A client of its own, for tests that keep cookies."""
    with TestClient(auth_app) as client:
        yield client


@pytest.fixture
def query(auth_database: str) -> Callable[..., list[Any]]:
    """Rows of a SQL query on the access-control database."""

    def run(sql: str, **params: Any) -> list[Any]:
        with session_scope(session_factory(auth_database)) as session:
            return list(session.execute(text(sql), params))

    return run


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')


def sign_in_on_the_web(client: TestClient, user: str, password: str = STAFF_PASSWORD) -> str:
    """Sign in through the login page as a browser does; the session's CSRF token."""
    form = client.get("/login")
    assert form.status_code == 200, form.text
    [login_csrf] = CSRF_INPUT.findall(form.text)
    answer = client.post(
        "/login",
        data={
            "username": user,
            "password": password,
            "csrf_token": login_csrf,
            "next": "/agent/queue",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200, me.text
    token: str = me.json()["csrf_token"]
    return token


@pytest.fixture
def new_incident(auth_database: str) -> Callable[..., int]:
    """A predicted hazard incident, assigned to `crew` when given."""

    def make(crew: int | None = None) -> int:
        with session_scope(session_factory(auth_database)) as session:
            incident_id = open_incident(
                session,
                kind=IncidentKind.HAZARD,
                hazard=Hazard.WIRES_DOWN,
                confidence=0.5,
                customers_affected=0,
                started_at=datetime.now(UTC) - timedelta(minutes=5),
                reason="test",
            )
            if crew is not None:
                patch = IncidentPatch(action=Action.ASSIGN, crew_id=crew)
                apply_action(session, incident_id, patch, "test")
        return incident_id

    return make


@pytest.fixture
def hazard_incident(new_incident: Callable[..., int]) -> int:
    return new_incident()
