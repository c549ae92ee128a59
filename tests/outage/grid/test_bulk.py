"""The bulk importer stores the same network as the regular one, and only into empty tables."""

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from grid_topology.model import GridModel
from outage.db import get_engine, session_factory, session_scope
from outage.grid.bulk import NetworkNotEmpty, bulk_save_grid
from outage.grid.service import save_grid
from tests.conftest import own_database

# Natural keys only: the two importers may number rows differently.
SNAPSHOT = {
    "nodes": "SELECT n.ref, n.voltage_kv, n.is_source, s.name, ST_AsEWKT(n.geom)"
    " FROM nodes n LEFT JOIN substations s ON s.id = n.substation_id",
    "devices": "SELECT d.asset_ref, d.kind, d.is_protective, a.ref, b.ref, d.normal_open,"
    " d.is_open, d.voltage_kv, d.rating_kva, d.remote_controlled, f.name, ST_AsEWKT(d.geom)"
    " FROM devices d"
    " JOIN nodes a ON a.id = d.from_node_id JOIN nodes b ON b.id = d.to_node_id"
    " LEFT JOIN feeders f ON f.id = d.feeder_id",
    "feeders": "SELECT f.name, s.name, d.asset_ref FROM feeders f"
    " JOIN substations s ON s.id = f.substation_id JOIN devices d ON d.id = f.head_device_id",
    "premises": "SELECT p.ref, n.ref, t.asset_ref, f.name, p.address, p.address_search,"
    " p.meter_id, p.load_kw, p.load_kvar, ST_AsEWKT(p.geom) FROM premises p"
    " JOIN nodes n ON n.id = p.node_id"
    " LEFT JOIN devices t ON t.id = p.transformer_id LEFT JOIN feeders f ON f.id = p.feeder_id",
    "customers": "SELECT c.account, p.ref, c.name, c.phone, c.email, c.language, c.critical"
    " FROM customers c JOIN premises p ON p.id = c.premise_id",
    "territory": "SELECT ST_AsText(ST_SnapToGrid(geom, 0.00001)) FROM service_areas",
}


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    with get_engine(url).connect() as connection:
        return {
            name: sorted(tuple(row) for row in connection.execute(text(query)))
            for name, query in SNAPSHOT.items()
        }


@pytest.fixture
def two_databases(database_url: str) -> Iterator[tuple[str, str]]:
    with (
        own_database(database_url, "outage_test_bulk_a") as regular,
        own_database(database_url, "outage_test_bulk_b") as bulk,
    ):
        yield regular, bulk


def test_bulk_and_regular_import_store_the_same_network(
    two_databases: tuple[str, str], sample_grid: GridModel
) -> None:
    regular, bulk = two_databases
    with session_scope(session_factory(regular)) as session:
        save_grid(session, sample_grid)
    with session_scope(session_factory(bulk)) as session:
        summary = bulk_save_grid(session, sample_grid)
    assert summary.customers == len(sample_grid.premises)
    assert snapshot(bulk) == snapshot(regular)


def test_rows_added_after_a_bulk_import_get_fresh_ids(
    two_databases: tuple[str, str], sample_grid: GridModel
) -> None:
    _, bulk = two_databases
    with session_scope(session_factory(bulk)) as session:
        bulk_save_grid(session, sample_grid)
    with session_scope(session_factory(bulk)) as session:
        new_id = session.scalar(
            text(
                "INSERT INTO substations (name, geom) VALUES ('new', 'SRID=4326;POINT(1 1)')"
                " RETURNING id"
            )
        )
    assert new_id == len(sample_grid.substations) + 1


def test_bulk_import_refuses_a_network_that_is_there_already(
    two_databases: tuple[str, str], sample_grid: GridModel
) -> None:
    regular, _ = two_databases
    with session_scope(session_factory(regular)) as session:
        save_grid(session, sample_grid)
    with pytest.raises(NetworkNotEmpty), session_scope(session_factory(regular)) as session:
        bulk_save_grid(session, sample_grid)
