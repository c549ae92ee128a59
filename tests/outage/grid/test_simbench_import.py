"""A whole SimBench grid through the importer into PostGIS, twice."""

import pytest
from sqlalchemy import func, select

from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Device
from outage.grid.service import save_grid

pytest.importorskip("simbench")
pytestmark = pytest.mark.simbench


def _snapshot(database_url: str) -> tuple[int, int, list[int]]:
    with session_scope(session_factory(database_url)) as session:
        customers = session.scalar(select(func.count()).select_from(Customer)) or 0
        devices = session.scalar(select(func.count()).select_from(Device)) or 0
        ids = list(session.scalars(select(Customer.id).order_by(Customer.account)))
    return customers, devices, ids


def test_simbench_reimport_is_idempotent(fresh_database_url: str) -> None:
    from grid_topology.simbench import import_simbench

    model = import_simbench("1-MVLV-urban-all-0-sw")
    with session_scope(session_factory(fresh_database_url)) as session:
        save_grid(session, model)
    first = _snapshot(fresh_database_url)
    with session_scope(session_factory(fresh_database_url)) as session:
        save_grid(session, model)
    assert _snapshot(fresh_database_url) == first
    assert first[0] == len(model.premises) == 11542
