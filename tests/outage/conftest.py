"""An API client on the shared database with the sample grid."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from outage.app import create_app


@pytest.fixture(scope="session")
def client(grid_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(grid_database)) as test_client:
        yield test_client
