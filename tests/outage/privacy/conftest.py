"""A database of its own with the sample grid: purges and erasures touch whole tables."""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from grid_topology.model import GridModel
from outage.db import session_factory, session_scope
from outage.settings import get_settings
from tests.conftest import own_database


@pytest.fixture(scope="session")
def privacy_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_privacy", sample_grid) as url:
        yield url


@pytest.fixture
def sessions(privacy_database: str) -> sessionmaker[Session]:
    return session_factory(privacy_database)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A committed unit of work."""
    with session_scope(sessions) as unit:
        yield unit


@pytest.fixture
def cli(privacy_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command line, on this database."""
    monkeypatch.setenv("DATABASE_URL", privacy_database)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
