"""A database of its own per test: sealing and tampering touch whole chains."""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from grid_topology.model import GridModel
from outage.db import session_factory
from outage.settings import get_settings
from tests.conftest import own_database


@pytest.fixture
def ledger_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_ledger", sample_grid) as url:
        yield url


@pytest.fixture
def sessions(ledger_database: str) -> sessionmaker[Session]:
    return session_factory(ledger_database)


@pytest.fixture
def cli(ledger_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command line, on this database."""
    monkeypatch.setenv("DATABASE_URL", ledger_database)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
