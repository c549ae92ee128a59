"""A database holding the bundled sample grid, and an API client on it."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from grid_topology.geojson import read_grid
from grid_topology.model import GridModel
from outage.app import create_app
from outage.db import session_factory, session_scope
from outage.grid.service import save_grid
from outage.settings import get_settings


@pytest.fixture(scope="session")
def sample_grid() -> GridModel:
    return read_grid(get_settings().sample_grid)


@pytest.fixture(scope="session")
def grid_database(database_url: str, sample_grid: GridModel) -> str:
    with session_scope(session_factory(database_url)) as session:
        save_grid(session, sample_grid)
    return database_url


@pytest.fixture(scope="session")
def client(grid_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(grid_database)) as test_client:
        yield test_client
