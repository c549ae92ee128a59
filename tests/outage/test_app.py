"""The application factories."""

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
