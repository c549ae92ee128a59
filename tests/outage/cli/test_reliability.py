"""`outage reliability rebuild` as an operator runs it: the records stored again, and a
period that ends before it starts refused."""

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from outage.cli import app
from outage.settings import get_settings


@pytest.fixture
def cli_database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    yield fresh_database_url
    get_settings.cache_clear()


def test_a_rebuild_says_what_it_stored(cli_database: str) -> None:
    result = CliRunner().invoke(app, ["reliability", "rebuild", "--since", "2025-01-01"])
    assert result.exit_code == 0, result.output
    assert "incidents\t0" in result.output
    assert "records\t0" in result.output


def test_a_rebuild_until_before_since_is_refused(cli_database: str) -> None:
    result = CliRunner().invoke(
        app, ["reliability", "rebuild", "--since", "2025-02-01", "--until", "2025-01-01"]
    )
    assert result.exit_code != 0
    assert "--until is before --since" in result.output
