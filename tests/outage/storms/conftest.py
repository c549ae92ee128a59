"""A database of the storms' own with the sample grid: at most one storm is on at a time,
so another suite's storm must not be in it. Each test starts with none on (`no_storm`)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from grid_topology.model import GridModel
from outage.app import create_app
from outage.db import session_factory, session_scope
from tests.conftest import Credentials, issue_credentials, own_database


@pytest.fixture(scope="package")
def storms_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_storms", sample_grid) as url:
        yield url


@pytest.fixture(scope="package")
def storms_credentials(storms_database: str) -> Credentials:
    return issue_credentials(storms_database)


@pytest.fixture(scope="package")
def client(storms_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(storms_database)) as client:
        yield client


@pytest.fixture(autouse=True)
def no_storm(storms_database: str) -> None:
    with session_scope(session_factory(storms_database)) as session:
        session.execute(text("UPDATE storms SET ended_at = declared_at WHERE ended_at IS NULL"))
