"""Storing the network in PostGIS and reading it back."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from benchmarks.edits import with_lateral, with_premise_moved
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


def _row_versions(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Each grid row's id and the transaction that wrote it last."""
    return {
        table: [
            (id_, xmin)
            for id_, xmin in session.execute(
                text(f"SELECT id, xmin::text FROM {table} ORDER BY id")
            )
        ]
        for table in ("substations", "nodes", "devices", "feeders", "premises", "customers")
    }


def test_a_reimport_that_changes_nothing_writes_no_row_and_bumps_nothing(
    reimport_database: str, sample_grid: GridModel
) -> None:
    sessions = session_factory(reimport_database)
    with session_scope(sessions) as session:
        before, version = _row_versions(session), versions(session).structure
    summary = _import(reimport_database, sample_grid)
    with session_scope(sessions) as session:
        assert _row_versions(session) == before
        assert versions(session).structure == version
    assert (summary.changed_devices, summary.changed_nodes, summary.retired) == (0, 0, ())


def test_a_reimport_moving_a_premise_logs_the_nodes_it_left_and_joined(
    reimport_database: str, sample_grid: GridModel
) -> None:
    premise = sample_grid.premises[0]
    node = next(p.node for p in sample_grid.premises if p.node != premise.node)
    summary = _import(reimport_database, with_premise_moved(sample_grid, premise.ref, node))
    with session_scope(session_factory(reimport_database)) as session:
        assert _logged(session) == {("node", premise.node), ("node", node)}
        transformer = session.scalar(
            select(Device.asset_ref)
            .join(Premise, Premise.transformer_id == Device.id)
            .where(Premise.ref == premise.ref)
        )
    topology = Topology(Network.from_model(sample_grid))
    assert transformer == topology.nearest_upstream(_transformers(sample_grid)).nodes[node]
    assert (summary.changed_devices, summary.changed_nodes) == (0, 2)


def _transformers(grid: GridModel) -> list[str]:
    return [d.asset_ref for d in grid.devices if d.kind is DeviceKind.TRANSFORMER]


def test_a_lateral_added_is_on_its_feeder_with_its_transformer(
    reimport_database: str, sample_grid: GridModel
) -> None:
    tap = _tap(sample_grid)
    _import(reimport_database, with_lateral(sample_grid, tap))
    feeder_of_tap = Topology(Network.from_model(sample_grid)).nearest_upstream(
        [f.head for f in sample_grid.feeders]
    )
    with session_scope(session_factory(reimport_database)) as session:
        premises = session.execute(
            select(Device.asset_ref, Premise.feeder_id)
            .join(Premise, Premise.transformer_id == Device.id)
            .where(Premise.ref.like("lateral/premise/%"))
        ).all()
        fuse_feeder = session.scalar(
            select(Device.feeder_id).where(Device.asset_ref == "lateral Fuse")
        )
        head_feeder = session.scalar(
            select(Device.feeder_id).where(Device.asset_ref == feeder_of_tap.nodes[tap])
        )
    assert fuse_feeder == head_feeder is not None
    assert sorted(premises) == [("lateral Trafo", head_feeder)] * 2


def test_a_reimport_writes_what_the_gis_changed_and_keeps_the_live_state(
    reimport_database: str, sample_grid: GridModel
) -> None:
    switch = next(d for d in sample_grid.devices if d.kind is DeviceKind.FUSE and not d.is_open)
    premise = sample_grid.premises[0]
    edited = replace(
        sample_grid,
        devices=[replace(d, rating_kva=123.0) if d is switch else d for d in sample_grid.devices],
        premises=[
            replace(p, address="1 Đường Mới", customer=replace(p.customer, phone="+84900000999"))
            if p is premise
            else p
            for p in sample_grid.premises
        ],
    )
    sessions = session_factory(reimport_database)
    with session_scope(sessions) as session:
        operate(
            session,
            switch.asset_ref,
            is_open=True,
            occurred_at=datetime(2026, 12, 6, tzinfo=UTC),
            source=SwitchSource.DISPATCHER,
            actor="test",
        )
        before = _row_versions(session)
    summary = _import(reimport_database, edited)
    with session_scope(sessions) as session:
        device = session.scalars(select(Device).where(Device.asset_ref == switch.asset_ref)).one()
        stored = session.scalars(select(Premise).where(Premise.ref == premise.ref)).one()
        phone = session.scalar(
            select(Customer.phone).where(Customer.account == premise.customer.account)
        )
        after = _row_versions(session)
    assert (device.is_open, device.rating_kva) == (True, 123.0)
    assert (stored.address, phone) == ("1 Đường Mới", "+84900000999")
    rewritten = {
        table: len(set(after[table]) - set(before[table])) for table in before if before[table]
    }
    assert rewritten == {
        "substations": 0,
        "nodes": 0,
        "devices": 1,
        "feeders": 0,
        "premises": 1,
        "customers": 1,
    }
    assert (summary.changed_devices, summary.changed_nodes) == (0, 0)


def test_an_import_tells_its_progress_through_every_table(
    reimport_database: str, sample_grid: GridModel
) -> None:
    told: dict[str, tuple[int, int]] = {}
    with session_scope(session_factory(reimport_database)) as session:
        save_grid(
            session,
            with_lateral(sample_grid, _tap(sample_grid)),
            lambda stage, done, total: told.__setitem__(stage, (done, total)),
        )
    assert told["devices"] == (len(sample_grid.devices) + 2,) * 2
    assert told["customers"] == (len(sample_grid.premises) + 2,) * 2
    assert set(told) == {"substations", "nodes", "devices", "feeders", "premises", "customers"}
