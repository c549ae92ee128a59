"""A database of its own with the sample grid: purges and erasures touch whole tables."""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from grid_topology.model import GridModel
from outage.db import create_database, drop_database, get_engine, session_factory, session_scope
from outage.grid.service import save_grid

DATABASE = "outage_test_privacy"


@pytest.fixture(scope="session")
def privacy_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    url = create_database(database_url, DATABASE)
    with session_scope(session_factory(url)) as session:
        save_grid(session, sample_grid)
    try:
        yield url
    finally:
        get_engine(url).dispose()
        drop_database(database_url, DATABASE)


@pytest.fixture
def sessions(privacy_database: str) -> sessionmaker[Session]:
    return session_factory(privacy_database)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A committed unit of work."""
    with session_scope(sessions) as unit:
        yield unit
