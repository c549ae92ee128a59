"""`outage grid import ...` as a user runs it."""

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from outage.cli import app
from outage.db import session_factory, session_scope
from outage.grid.models import Customer
from outage.settings import get_settings


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _customers(database_url: str) -> int:
    with session_scope(session_factory(database_url)) as session:
        return session.scalar(select(func.count()).select_from(Customer)) or 0


def test_geojson_import_loads_every_customer(cli_database: str) -> None:
    result = CliRunner().invoke(app, ["grid", "import", "geojson", str(get_settings().sample_grid)])
    assert result.exit_code == 0, result.output
    assert "customers" in result.output
    with gzip.open(get_settings().sample_grid) as fh:
        premises = [f for f in json.load(fh)["features"] if f["properties"]["type"] == "premise"]
    assert _customers(cli_database) >= len(premises) > 0


def test_invalid_geojson_is_refused_with_reason_and_changes_nothing(
    cli_database: str, tmp_path: Path
) -> None:
    before = _customers(cli_database)
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "grid_format": "outage-grid/1",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [105.8, 21.0]},
                        "properties": {"type": "device", "asset_ref": "X", "kind": "teapot"},
                    }
                ],
            }
        )
    )
    result = CliRunner().invoke(app, ["grid", "import", "geojson", str(bad)])
    assert result.exit_code == 1
    assert "not a valid grid file" in result.output
    assert _customers(cli_database) == before
