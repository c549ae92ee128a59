"""Customers of the sample grid for care tests, sessions, and clients by role."""

from collections.abc import Callable, Iterator
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from grid_topology.model import GridModel, Premise
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from tests.conftest import Credentials, staff_client

CUSTOMER_BAND = slice(1200, 1300)
"""Care tests file requests (and the odd report) for these customers only."""


@pytest.fixture(scope="session")
def care_customers(sample_grid: GridModel) -> list[Premise]:
    return [p for p in sample_grid.premises[CUSTOMER_BAND] if p.customer and p.customer.phone]


@pytest.fixture(scope="session")
def _next_customer() -> Iterator[int]:
    return count()


@pytest.fixture
def care_customer(care_customers: list[Premise], _next_customer: Iterator[int]) -> Premise:
    """A premise with a customer (with a phone) that no other care test uses."""
    return care_customers[next(_next_customer)]


@pytest.fixture
def session(grid_database: str) -> Iterator[Session]:
    """A committed unit of work on the shared database."""
    with session_scope(session_factory(grid_database)) as unit:
        yield unit


@pytest.fixture(scope="session")
def agent_client(grid_database: str, credentials: Credentials) -> Iterator[TestClient]:
    with staff_client(create_app(grid_database), credentials, Role.AGENT) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def supervisor_client(grid_database: str, credentials: Credentials) -> Iterator[TestClient]:
    with staff_client(create_app(grid_database), credentials, Role.SUPERVISOR) as test_client:
        yield test_client


NewRequest = Callable[..., str]
