"""Customers of the sample grid, handed out one per test so reports never collide."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count

import pytest
from sqlalchemy import text

from outage.db import session_factory, session_scope


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
