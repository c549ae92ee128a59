"""API clients on the shared database with the sample grid: an administrator's and anyone's."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from outage.app import create_app
from tests.conftest import Credentials, staff_client


@pytest.fixture(scope="session")
def client(grid_database: str, credentials: Credentials) -> Iterator[TestClient]:
    """Signed in as an administrator: every route is open to it."""
    with staff_client(create_app(grid_database), credentials) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def anonymous_client(grid_database: str) -> Iterator[TestClient]:
    """No credentials: what a customer (or anyone on the internet) gets."""
    with TestClient(create_app(grid_database)) as test_client:
        yield test_client
