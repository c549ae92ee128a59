"""Storing the network in PostGIS and reading it back."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from benchmarks.edits import with_lateral
from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.db import session_factory, session_scope
from outage.grid.enums import SwitchSource
from outage.grid.models import Customer, Device, GridNode, Premise
from outage.grid.service import ImportRefused, ImportSummary, Retiring, load_network, save_grid
from outage.grid.switching import operate, versions
from tests.conftest import own_database


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


@pytest.fixture
def reimport_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "reimport", sample_grid) as url:
        yield url


def _tap(grid: GridModel) -> str:
    """A node on the medium-voltage side of a transformer, to hang a lateral from."""
    return next(d.from_node for d in grid.devices if d.kind is DeviceKind.TRANSFORMER)


def _logged(session: Session) -> set[tuple[str, str]]:
    """The devices and nodes logged under the latest structure version."""
    rows = session.execute(
        text(
            "SELECT kind, ref FROM structure_changes"
            " WHERE version = (SELECT structure_version FROM grid_state)"
        )
    )
    return {(kind, ref) for kind, ref in rows}


def test_a_reimport_logs_only_the_devices_and_nodes_it_changed(
    reimport_database: str, sample_grid: GridModel
) -> None:
    edited = with_lateral(sample_grid, _tap(sample_grid))
    with session_scope(session_factory(reimport_database)) as session:
        summary = save_grid(session, edited)
        logged = _logged(session)
    assert logged == {
        ("device", "lateral Fuse"),
        ("device", "lateral Trafo"),
        ("node", "lateral/fused"),
        ("node", "lateral/lv"),
    }
    assert (summary.changed_devices, summary.changed_nodes, summary.retired) == (2, 2, ())


def _import(url: str, model: GridModel) -> ImportSummary:
    with session_scope(session_factory(url)) as session:
        return save_grid(session, model)


def _someone_waits_for_a_lock(url: str) -> bool:
    with session_scope(session_factory(url)) as session:
        return bool(
            session.scalar(
                text(
                    "SELECT EXISTS (SELECT FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock')"
                )
            )
        )


def test_imports_at_once_run_one_after_the_other(
    reimport_database: str, sample_grid: GridModel
) -> None:
    """The second import, started while the first is not committed yet, compares the
    model with what the first stored: the network ends as the second import has it."""
    edited = with_lateral(sample_grid, _tap(sample_grid))
    sessions = session_factory(reimport_database)
    with session_scope(sessions) as session:
        before = versions(session).structure
    with ThreadPoolExecutor(max_workers=1) as pool:
        with session_scope(sessions) as first:
            save_grid(first, edited)
            second = pool.submit(_import, reimport_database, sample_grid)
            deadline = time.monotonic() + 30
            while not _someone_waits_for_a_lock(reimport_database):
                assert time.monotonic() < deadline, "the second import did not wait"
                time.sleep(0.05)
        summary = second.result(timeout=60)
    with session_scope(sessions) as session:
        assert load_network(session) == Network.from_model(sample_grid)
        assert versions(session).structure == before + 2
        assert ("device", "lateral Fuse") in _logged(session)
    assert "lateral Fuse" in summary.retired


def test_a_reimport_retires_what_it_leaves_out_and_brings_it_back_with_its_ids(
    reimport_database: str, sample_grid: GridModel
) -> None:
    sessions = session_factory(reimport_database)
    edited = with_lateral(sample_grid, _tap(sample_grid))
    with session_scope(sessions) as session:
        save_grid(session, edited)
    ids = _row_ids(reimport_database)
    with session_scope(sessions) as session:
        summary = save_grid(session, sample_grid)
        assert load_network(session) == Network.from_model(sample_grid)
    assert "lateral Fuse" in summary.retired and "lateral/premise/1" in summary.retired
    with session_scope(sessions) as session:
        save_grid(session, edited)
        assert load_network(session) == Network.from_model(edited)
    assert _row_ids(reimport_database) == ids


def test_a_reimport_leaving_out_a_device_off_its_normal_state_is_refused(
    reimport_database: str, sample_grid: GridModel
) -> None:
    sessions = session_factory(reimport_database)
    edited = with_lateral(sample_grid, _tap(sample_grid))
    with session_scope(sessions) as session:
        save_grid(session, edited)
        operate(
            session,
            "lateral Fuse",
            is_open=True,
            occurred_at=datetime(2026, 12, 6, tzinfo=UTC),
            source=SwitchSource.DISPATCHER,
            actor="test",
        )
    with session_scope(sessions) as session, pytest.raises(ImportRefused, match="lateral Fuse"):
        save_grid(session, sample_grid)
    with session_scope(sessions) as session:
        assert "lateral Fuse" in load_network(session).links


def test_a_reimport_asks_the_guards_and_refuses_what_they_name(
    reimport_database: str, sample_grid: GridModel
) -> None:
    def busy(session: Session, retiring: Retiring) -> list[str]:
        return [f"{ref} is busy" for ref in sorted(retiring.premises)]

    with session_scope(session_factory(reimport_database)) as session:
        save_grid(session, with_lateral(sample_grid, _tap(sample_grid)))
    with (
        session_scope(session_factory(reimport_database)) as session,
        pytest.raises(ImportRefused, match="lateral/premise/1 is busy"),
    ):
        save_grid(session, sample_grid, guards=[busy])
