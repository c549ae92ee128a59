"""Engines claiming regions by their advisory locks, on real connections of their own."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from outage.db import get_engine, session_factory
from outage.grid.regions import Regions, Tie
from outage.prediction.claims import Claims, claim, settle, unworked
from tests.faults.conftest import wait_for

REGIONS = Regions(
    of_substation={10: 1, 20: 2}, substation_of_feeder={}, ties=(Tie("TIE", frozenset({1, 2})),)
)
"""Regions 0, 1 and 2, the last two tied."""
TIED = frozenset({"TIE"})


@pytest.fixture
def connect(fresh_database_url: str) -> Iterator[Any]:
    """Opens an engine's listening connection; all are closed afterwards."""
    opened: list[Any] = []

    def open_claims() -> Claims:
        connection = get_engine(fresh_database_url).raw_connection()
        connection.driver_connection.autocommit = True
        opened.append(connection)
        return Claims(connection.driver_connection.cursor())

    yield open_claims
    for connection in opened:
        connection.invalidate()


def test_an_engine_without_a_region_takes_the_first_free_one(connect: Any) -> None:
    first, second = connect(), connect()
    assert claim(first, REGIONS, None, frozenset()) == 0
    assert claim(second, REGIONS, None, frozenset()) == 1


def test_a_region_another_engine_holds_is_not_taken(connect: Any) -> None:
    first, second = connect(), connect()
    assert claim(first, REGIONS, 2, frozenset()) == 2
    assert claim(second, REGIONS, 2, frozenset()) is None


def test_a_region_is_free_once_its_engines_connection_ends(fresh_database_url: str) -> None:
    connection = get_engine(fresh_database_url).raw_connection()
    connection.driver_connection.autocommit = True
    assert claim(Claims(connection.driver_connection.cursor()), REGIONS, 2, frozenset()) == 2
    connection.invalidate()
    waiting = get_engine(fresh_database_url).raw_connection()
    waiting.driver_connection.autocommit = True
    try:
        assert claim(Claims(waiting.driver_connection.cursor()), REGIONS, 2, frozenset()) == 2
    finally:
        waiting.invalidate()


def test_a_closed_tie_gives_the_engine_both_regions_it_joins(connect: Any) -> None:
    engine = connect()
    assert claim(engine, REGIONS, 2, TIED) == 2
    assert engine.held == {1, 2}


def test_the_engine_of_the_higher_region_lets_it_go_when_a_tie_joins_it_to_a_lower_one_held(
    connect: Any,
) -> None:
    lower, higher = connect(), connect()
    claim(lower, REGIONS, 1, frozenset())
    claim(higher, REGIONS, 2, frozenset())
    assert settle(lower, REGIONS, 1, TIED)  # keeps 1, tries 2 again later
    assert not settle(higher, REGIONS, 2, TIED)
    assert higher.held == set()
    assert settle(lower, REGIONS, 1, TIED)
    assert lower.held == {1, 2}


def test_an_opened_tie_gives_back_the_region_it_had_joined(connect: Any) -> None:
    engine, waiting = connect(), connect()
    claim(engine, REGIONS, 1, TIED)
    assert claim(waiting, REGIONS, 2, frozenset()) is None
    assert settle(engine, REGIONS, 1, frozenset())
    assert engine.held == {1}
    assert claim(waiting, REGIONS, 2, frozenset()) == 2


def test_an_engine_whose_listening_connection_was_killed_no_longer_holds_its_region(
    connect: Any, fresh_database_url: str
) -> None:
    engine = connect()
    claim(engine, REGIONS, 2, frozenset())
    with session_factory(fresh_database_url)() as session:
        assert engine.still_held(session)
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": engine.pid})
        assert wait_for(lambda: not engine.still_held(session), 5)  # the backend ends soon after


def test_an_engine_does_not_hold_a_region_another_engines_connection_holds(
    connect: Any, fresh_database_url: str
) -> None:
    engine, other = connect(), connect()
    claim(other, REGIONS, 2, frozenset())
    engine.held.add(2)  # as if it had, before its connection died unnoticed
    with session_factory(fresh_database_url)() as session:
        assert not engine.still_held(session)


def test_the_configured_regions_no_engine_holds_are_unworked(
    connect: Any, fresh_database_url: str
) -> None:
    claim(connect(), REGIONS, 2, frozenset())
    with session_factory(fresh_database_url)() as session:
        assert unworked(session, {1: ["North"], 2: ["South"]}) == [1]
