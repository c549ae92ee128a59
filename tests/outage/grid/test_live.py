"""A process's copy of the network follows switching and imports without a restart."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from benchmarks.edits import with_lateral
from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.db import session_factory, session_scope
from outage.grid import live as live_module
from outage.grid import switching
from outage.grid.enums import SwitchSource
from outage.grid.live import LiveTopology
from outage.grid.models import StructureChange
from outage.grid.service import load_network, save_grid
from tests.outage.grid.conftest import Transfer

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _operate(url: str, asset_ref: str, is_open: bool, source: SwitchSource, minute: int) -> None:
    with session_scope(session_factory(url)) as session:
        switching.operate(
            session,
            asset_ref,
            is_open=is_open,
            occurred_at=AT.replace(minute=minute),
            source=source,
            actor="test",
        )


def test_a_transfer_through_a_tie_moves_the_customers_to_the_other_feeder(
    switching_database: str, transfer: Transfer
) -> None:
    live = LiveTopology()
    sessions = session_factory(switching_database)
    with session_scope(sessions) as session:
        moved = live.get(session).downstream(transfer.head).accounts
        neighbour = live.get(session).downstream(transfer.neighbour_head).accounts
    _operate(switching_database, transfer.tie, False, SwitchSource.DISPATCHER, 1)
    _operate(switching_database, transfer.head, True, SwitchSource.DISPATCHER, 2)
    with session_scope(sessions) as session:
        topology = live.get(session)
        assert topology.downstream(transfer.head).accounts == frozenset()
        assert topology.downstream(transfer.neighbour_head).accounts == moved | neighbour
        assert live.energized(session).customer_counts()[transfer.neighbour_head] == len(
            moved | neighbour
        )
    _operate(switching_database, transfer.head, False, SwitchSource.DISPATCHER, 3)
    _operate(switching_database, transfer.tie, True, SwitchSource.DISPATCHER, 4)
    with session_scope(sessions) as session:
        assert live.get(session).downstream(transfer.head).accounts == moved


def test_a_trip_keeps_its_customers_as_operated_and_cuts_their_supply(
    switching_database: str, transfer: Transfer
) -> None:
    live = LiveTopology()
    sessions = session_factory(switching_database)
    with session_scope(sessions) as session:
        fed = live.get(session).downstream(transfer.neighbour_head).accounts
    _operate(switching_database, transfer.neighbour_head, True, SwitchSource.SCADA, 10)
    with session_scope(sessions) as session:
        operated = live.get(session).downstream(transfer.neighbour_head)
        assert operated.accounts == fed
        energized = live.energized(session)
        assert not any(energized.is_energized(node) for node in operated.nodes)
    _operate(switching_database, transfer.neighbour_head, False, SwitchSource.SCADA, 11)


def _moved_premise(grid: GridModel) -> GridModel:
    """The grid with its first premise served from another node of the network."""
    first = grid.premises[0]
    other = next(p.node for p in grid.premises if p.node != first.node)
    return replace(grid, premises=[replace(first, node=other), *grid.premises[1:]])


def _answers(topology: Topology, heads: list[str]) -> object:
    return (
        {head: topology.downstream(head).accounts for head in heads},
        dict(topology.customer_counts()),
        topology.energized_nodes(),
    )


def test_an_import_is_followed_from_the_rows_it_changed(
    switching_database: str, sample_grid: GridModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = LiveTopology()
    sessions = session_factory(switching_database)
    tap = next(d.from_node for d in sample_grid.devices if d.kind is DeviceKind.TRANSFORMER)
    edited = _moved_premise(with_lateral(sample_grid, tap))
    heads = [d.asset_ref for d in edited.devices if d.kind is not DeviceKind.LINE]
    with session_scope(sessions) as session:
        first = live.get(session)
        live.energized(session)
        save_grid(session, edited)
    monkeypatch.setattr(live_module, "load_network", _no_load)
    try:
        with session_scope(sessions) as session:
            expected = _answers(Topology(Network.from_model(edited)), heads)
            assert live.get(session) is not first
            assert _answers(live.get(session), heads) == expected
            assert _answers(live.energized(session), heads) == expected
    finally:
        monkeypatch.undo()
        with session_scope(sessions) as session:
            save_grid(session, sample_grid)


def _no_load(session: Session) -> Network:
    raise AssertionError("the whole network was loaded")


def test_a_copy_further_behind_than_the_log_loads_the_network(
    switching_database: str, sample_grid: GridModel
) -> None:
    live = LiveTopology()
    sessions = session_factory(switching_database)
    with session_scope(sessions) as session:
        live.get(session)
        save_grid(session, _moved_premise(sample_grid))
        session.execute(delete(StructureChange))
    with session_scope(sessions) as session:
        assert _answers(live.get(session), []) == _answers(Topology(load_network(session)), [])
        save_grid(session, sample_grid)


def test_an_import_that_changes_nothing_leaves_every_copy_alone(
    switching_database: str, sample_grid: GridModel
) -> None:
    live = LiveTopology()
    sessions = session_factory(switching_database)
    with session_scope(sessions) as session:
        first = live.get(session)
        save_grid(session, sample_grid)
    with session_scope(sessions) as session:
        assert live.get(session) is first


def test_a_copy_unchanged_is_reused(switching_database: str) -> None:
    live = LiveTopology()
    with session_scope(session_factory(switching_database)) as session:
        assert live.get(session) is live.get(session)
