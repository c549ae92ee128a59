"""Fixtures of the prediction tests: a small hand-built feeder the inference and the ping
choice are tested on, and a database of the sample grid of a test's own for the engine.

S =B= n0 -L- n1 =F1= a (10 customers)
             |  =F2= b (10 customers)
             +=FT= t =F3= c (10 customers)     FT: a transformer fuse with
                      =F4= d (40 customers)        two LV feeder fuses below
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Link, Network, Topology
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.service import save_grid
from outage.prediction.inference import Evidence, EvidenceKind
from tests.conftest import issue_credentials, staff_client

K = DeviceKind


def customers(node: str) -> tuple[str, ...]:
    return tuple(f"{node}{i}" for i in range(40 if node == "d" else 10))


@pytest.fixture(scope="module")
def feeder() -> Topology:
    links = [
        Link("B", K.BREAKER, "S", "n0"),
        Link("L", K.LINE, "n0", "n1"),
        Link("F1", K.FUSE, "n1", "a"),
        Link("F2", K.FUSE, "n1", "b"),
        Link("FT", K.FUSE, "n1", "t"),
        Link("F3", K.FUSE, "t", "c"),
        Link("F4", K.FUSE, "t", "d"),
    ]
    return Topology(
        Network(
            links={link.asset_ref: link for link in links},
            sources=frozenset({"S"}),
            accounts_at={node: customers(node) for node in "abcd"},
        )
    )


def calls(*accounts: str) -> list[Evidence]:
    return [Evidence(a, EvidenceKind.CALL) for a in accounts]


@pytest.fixture
def engine_db(fresh_database_url: str, sample_grid: GridModel) -> str:
    """A database of its own: the engine reasons over every report in it."""
    with session_scope(session_factory(fresh_database_url)) as session:
        save_grid(session, sample_grid)
    return fresh_database_url


@pytest.fixture
def api(engine_db: str) -> Iterator[TestClient]:
    credentials = issue_credentials(engine_db, roles=[Role.ADMIN], scopes=[])
    with staff_client(create_app(engine_db), credentials) as client:
        yield client


@pytest.fixture(scope="module")
def topology(sample_grid: GridModel) -> Topology:
    return Topology(Network.from_model(sample_grid))
