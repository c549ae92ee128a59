"""The engines' regions on the grid of two (`tests/outage/regions_grid.py`): what each
region's network holds, the tie between them, and a region's copy following switching."""

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outage.db import session_factory, session_scope
from outage.grid.live import LiveTopology
from outage.grid.models import Device, Substation, SubstationMove
from outage.grid.regions import (
    Regions,
    Scope,
    Tie,
    closed_ties,
    read_regions,
    unknown_substations,
)
from outage.grid.service import load_network, save_grid
from tests.outage.regions_grid import REGIONS, accounts, operate, two_region_grid

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _session(url: str) -> Session:
    return session_factory(url)()


def test_without_regions_named_there_is_one_region_of_everything(regions_database: str) -> None:
    with _session(regions_database) as session:
        regions = read_regions(session, {})
    assert regions.numbers == (0,)
    assert regions.scope({0}) is None


def test_a_regions_network_holds_its_substations_devices_sources_and_customers(
    regions_database: str,
) -> None:
    with _session(regions_database) as session:
        network = load_network(session, read_regions(session, REGIONS).scope({2}))
    assert {ref for ref in network.links if ref != "TIE"} == {
        f"{ref}-S" for ref in ("TX", "BR", "L1", "FU-A", "FU-B", "SW", "FU-C", "L2", "NOP")
    }
    assert network.sources == {"S-SRC"}
    held = {account for found in network.accounts_at.values() for account in found}
    assert held == {a for fuse in "ABC" for a in accounts("S", fuse)}


def test_region_0_holds_what_no_region_names(regions_database: str) -> None:
    with _session(regions_database) as session:
        network = load_network(session, read_regions(session, {1: ["North"]}).scope({0}))
    assert "BR-S" in network.links
    assert "BR-N" not in network.links


def test_the_normally_open_switch_between_two_regions_is_their_tie(
    regions_database: str,
) -> None:
    with _session(regions_database) as session:
        regions = read_regions(session, REGIONS)
    assert regions.ties == (Tie("TIE", frozenset({1, 2})),)


def test_a_tie_is_in_the_network_of_both_its_regions(regions_database: str) -> None:
    with _session(regions_database) as session:
        regions = read_regions(session, REGIONS)
        north = load_network(session, regions.scope({1}))
        south = load_network(session, regions.scope({2}))
    assert "TIE" in north.links
    assert "TIE" in south.links


def test_a_regions_own_normally_open_point_is_in_its_network_alone(
    regions_database: str,
) -> None:
    with _session(regions_database) as session:
        regions = read_regions(session, REGIONS)
        north = load_network(session, regions.scope({1}))
        nobodys = load_network(session, regions.scope({0}))
    assert "NOP-N" in north.links
    assert "NOP-S" not in north.links
    assert not {"NOP-N", "NOP-S", "TIE"} & nobodys.links.keys()


def test_a_section_dead_at_import_is_in_the_region_of_the_device_that_cut_it_off(
    regions_database: str,
) -> None:
    """SW-N was open in the imported model: the import found no feeder beyond it."""
    dead = ("SW-N", "FU-C-N", "L2-N")
    with session_scope(session_factory(regions_database)) as session:
        session.execute(update(Device).where(Device.asset_ref.in_(dead)).values(feeder_id=None))
    with _session(regions_database) as session:
        regions = read_regions(session, REGIONS)
        north = load_network(session, regions.scope({1}))
        nobodys = load_network(session, regions.scope({0}))
    assert set(dead) <= north.links.keys()
    assert not set(dead) & nobodys.links.keys()
    assert regions.ties == (Tie("TIE", frozenset({1, 2})),)


def test_a_regions_copy_follows_a_load_transfer_inside_it(regions_database: str) -> None:
    live = LiveTopology(_scope(regions_database, {1}))
    with _session(regions_database) as session:
        live.get(session)
    operate(regions_database, "FU-C-N", is_open=True)
    operate(regions_database, "NOP-N", is_open=False)
    with _session(regions_database) as session:
        assert live.get(session).is_energized("N-C")


def test_a_closed_tie_joins_its_regions_and_an_open_one_does_not(regions_database: str) -> None:
    with _session(regions_database) as session:
        regions = read_regions(session, REGIONS)
        assert closed_ties(session, regions.ties) == frozenset()
    assert regions.joined(1, frozenset()) == {1}
    operate(regions_database, "TIE", is_open=False)
    with _session(regions_database) as session:
        closed = closed_ties(session, regions.ties)
    assert regions.joined(1, closed) == {1, 2}
    assert regions.joined(2, closed) == {1, 2}


def test_substations_named_that_the_network_does_not_have_are_found(
    regions_database: str,
) -> None:
    with _session(regions_database) as session:
        assert unknown_substations(session, {1: ["North", "Nowhere"]}) == ["Nowhere"]


def test_a_regions_copy_follows_its_own_switching_and_ignores_the_others(
    regions_database: str,
) -> None:
    live = LiveTopology(_scope(regions_database, {1}))
    with _session(regions_database) as session:
        assert live.get(session).is_energized("N-C")
    operate(regions_database, "SW-S", is_open=True)
    operate(regions_database, "SW-N", is_open=True)
    with _session(regions_database) as session:
        topology = live.get(session)
    assert not topology.is_energized("N-C")
    assert "SW-S" not in topology.network.links


def _scope(url: str, held: set[int]) -> Scope | None:
    with _session(url) as session:
        return read_regions(session, REGIONS).scope(held)


def test_a_region_reads_the_keys_its_substations_premises_were_moved_from() -> None:
    regions = Regions({1: 1, 2: 2, 3: 2, 4: 1}, {}, (), moves=frozenset({(1, 3), (5, 1)}))
    assert regions.scope({2}).keys == [0, 1, 2, 3, 5]  # type: ignore[union-attr]
    assert regions.scope({1}).keys == [0, 1, 4, 5]  # type: ignore[union-attr]


def test_an_import_moving_a_premise_to_another_substation_records_the_move(
    regions_database: str,
) -> None:
    grid = two_region_grid()
    moved = [replace(p, node="S-A") if p.ref == "P-NA1" else p for p in grid.premises]
    with session_scope(session_factory(regions_database)) as session:
        save_grid(session, replace(grid, premises=moved))
    with _session(regions_database) as session:
        named = dict(session.execute(select(Substation.name, Substation.id)).tuples().all())
        moves = session.execute(
            select(SubstationMove.from_substation, SubstationMove.to_substation)
        ).all()
        south = read_regions(session, REGIONS).scope({2})
    assert [tuple(m) for m in moves] == [(named["North"], named["South"])]
    assert south is not None and named["North"] in south.keys
