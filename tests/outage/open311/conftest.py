"""An Open311 client on the sample grid, with an API key, and customers to report for."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from outage.app import create_app
from outage.auth.enums import Scope
from outage.care.models import ServiceRequest
from outage.db import session_factory, session_scope
from outage.intake.models import Report
from outage.settings import Settings, get_settings
from tests.conftest import ensure_api_key

API_KEY = "test-key-open311-client"
JURISDICTION = "pc-test.example"


@dataclass(frozen=True)
class Open311Customer:
    account: str
    name: str
    phone: str
    email: str | None
    address: str
    premise: str
    lon: float
    lat: float


def open311_app(database_url: str, settings: Settings) -> FastAPI:
    """The app with the client's key (`API_KEY`, scope open311) issued on its database."""
    ensure_api_key(database_url, API_KEY, [Scope.OPEN311])
    return create_app(database_url, settings)


@pytest.fixture(scope="session")
def open311_settings() -> Settings:
    return get_settings().model_copy(
        update={"open311_jurisdiction_id": JURISDICTION, "photo_url_hosts": ["127.0.0.1"]}
    )


@pytest.fixture(scope="session")
def open311_client(grid_database: str, open311_settings: Settings) -> Iterator[TestClient]:
    with TestClient(open311_app(grid_database, open311_settings)) as client:
        yield client


@pytest.fixture(scope="session")
def _open311_offsets() -> Iterator[int]:
    return count(start=3, step=17)


@pytest.fixture
def open311_customer(
    grid_database: str, _open311_offsets: Iterator[int]
) -> Callable[[], Open311Customer]:
    """A customer no other test reports for (counted from the last customer backwards)."""

    def make() -> Open311Customer:
        with session_scope(session_factory(grid_database)) as session:
            row = session.execute(
                text(
                    "SELECT c.account, c.name, c.phone, c.email, p.address, p.ref AS premise,"
                    " ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat"
                    " FROM customers c JOIN premises p ON p.id = c.premise_id"
                    " WHERE c.phone IS NOT NULL"
                    " ORDER BY c.id DESC OFFSET :offset LIMIT 1"
                ),
                {"offset": next(_open311_offsets)},
            ).one()
            return Open311Customer(**row._mapping)

    return make


@pytest.fixture
def open311_report_count(grid_database: str) -> Callable[[], int]:
    def counted() -> int:
        with session_scope(session_factory(grid_database)) as session:
            reports = session.scalar(select(func.count()).select_from(Report)) or 0
            requests = session.scalar(select(func.count()).select_from(ServiceRequest)) or 0
            return reports + requests

    return counted
