"""The application factories: a worker is given its database, and holds the network before it
listens."""

from collections.abc import Iterator

import pytest

from outage.app import app_from_environment
from outage.settings import get_settings


@pytest.fixture
def no_database_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("no_database_url")
def test_a_worker_never_starts_a_database_of_its_own() -> None:
    with pytest.raises(RuntimeError, match="DATABASE_URL is not set"):
        app_from_environment()


def test_a_worker_holds_the_network_before_it_listens(
    grid_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", grid_database)
    get_settings.cache_clear()
    try:
        app = app_from_environment()
    finally:
        get_settings.cache_clear()
    assert app.state.topology.version is not None
    with app.state.sessions() as session:
        assert app.state.topology.get(session).network.accounts_at
