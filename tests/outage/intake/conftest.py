"""Customers of the sample grid, handed out one per test so reports never collide; a
database of its own for the meter pings' suites, and their head-end."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from grid_topology.model import GridModel
from outage.app import create_app
from outage.auth.enums import Scope
from outage.db import session_factory, session_scope
from tests.conftest import issue_credentials, own_database


@dataclass(frozen=True)
class SampleCustomer:
    account: str
    phone: str
    email: str | None
    address: str
    premise: str
    transformer: str
    lon: float
    lat: float


@pytest.fixture(scope="session")
def _customer_offsets() -> Iterator[int]:
    return count(start=7, step=13)


@pytest.fixture
def new_customer(
    grid_database: str, _customer_offsets: Iterator[int]
) -> Callable[..., SampleCustomer]:
    """A customer no other test has reported for; `with_email=True` for one with e-mail."""

    def make(with_email: bool = False) -> SampleCustomer:
        with session_scope(session_factory(grid_database)) as session:
            while True:
                row = session.execute(
                    text(
                        "SELECT c.account, c.phone, c.email, p.address, p.ref AS premise,"
                        " d.asset_ref AS transformer, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat"
                        " FROM customers c JOIN premises p ON p.id = c.premise_id"
                        " JOIN devices d ON d.id = p.transformer_id"
                        " ORDER BY c.id OFFSET :offset LIMIT 1"
                    ),
                    {"offset": next(_customer_offsets)},
                ).one()
                if row.email or not with_email:
                    return SampleCustomer(**row._mapping)

    return make


@pytest.fixture(scope="module")
def ami_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    """A database of the module's own: the meter events it stores (answers to pings, batches
    of thousands) would weigh on every suite reading meters."""
    with own_database(database_url, "ami", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def head_end(ami_database: str) -> Iterator[TestClient]:
    """The head-end (its batches of events, its answers to pings), with its API key."""
    key = issue_credentials(ami_database).key(Scope.AMI)
    with TestClient(create_app(ami_database), headers=key) as client:
        yield client


@pytest.fixture(scope="module")
def meters(sample_grid: GridModel) -> Iterator[str]:
    """Meters handed out a few per test, so no test finds another's pings pending."""
    return iter([p.meter_id for p in sample_grid.premises if p.meter_id])
