"""Storing the network in PostGIS and reading it back."""

from sqlalchemy import func, select, text

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Device, GridNode, Premise
from outage.grid.service import load_network, save_grid


def _row_ids(database_url: str) -> dict[str, list[int]]:
    with session_scope(session_factory(database_url)) as session:
        return {
            table.__tablename__: list(session.scalars(select(table.id).order_by(table.id)))
            for table in (GridNode, Device, Premise, Customer)
        }


def test_reimport_changes_nothing(grid_database: str, sample_grid: GridModel) -> None:
    before = _row_ids(grid_database)
    with session_scope(session_factory(grid_database)) as session:
        save_grid(session, sample_grid)
    assert _row_ids(grid_database) == before


def test_every_model_element_is_stored(grid_database: str, sample_grid: GridModel) -> None:
    ids = _row_ids(grid_database)
    assert len(ids["devices"]) == len(sample_grid.devices)
    assert len(ids["nodes"]) == len(sample_grid.nodes)
    assert len(ids["customers"]) == len(sample_grid.premises)


def test_network_read_back_equals_the_model(grid_database: str, sample_grid: GridModel) -> None:
    with session_scope(session_factory(grid_database)) as session:
        stored = load_network(session)
    assert stored == Network.from_model(sample_grid)


def test_premises_know_their_serving_transformer(
    grid_database: str, sample_grid: GridModel
) -> None:
    topology = Topology(Network.from_model(sample_grid))
    premise = next(p for p in sample_grid.premises if p.node != sample_grid.nodes[0].ref)
    expected = next(
        ref
        for ref in topology.upstream_of_node(premise.node).devices
        if topology.network.links[ref].kind is DeviceKind.TRANSFORMER
    )
    with session_scope(session_factory(grid_database)) as session:
        stored = session.scalar(
            select(Device.asset_ref)
            .join(Premise, Premise.transformer_id == Device.id)
            .where(Premise.ref == premise.ref)
        )
    assert stored == expected


def test_every_energized_premise_is_on_a_feeder(grid_database: str) -> None:
    with session_scope(session_factory(grid_database)) as session:
        orphans = session.scalar(
            select(func.count()).select_from(Premise).where(Premise.feeder_id.is_(None))
        )
    assert orphans == 0


def test_address_search_folds_accents_and_case(grid_database: str) -> None:
    with session_scope(session_factory(grid_database)) as session:
        address = session.scalar(select(Premise.address).where(Premise.address.like("%ư%")))
        folded = session.scalar(text("SELECT search_text(:a)"), {"a": address})
    assert address is not None
    assert folded == folded.lower()
    assert folded.isascii()
