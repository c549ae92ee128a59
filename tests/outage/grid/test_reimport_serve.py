"""A re-import from GIS against a running `outage serve --role all`: traces and counts
follow at once, without a restart; untouched rows keep their ids and an open incident
keeps its customers."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from benchmarks.edits import with_lateral, with_premise_moved
from grid_topology.geojson import write_grid
from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.cli import app
from outage.db import session_factory, session_scope
from outage.grid.models import Device, Premise
from outage.settings import get_settings
from tests.outage.grid.conftest import Transfer
from tests.outage.grid.test_live_serve import (
    Server,
    _incident_customers,
    _scada,
    _trace_customers,
    _wait_until,
    server,
)

__all__ = ["server"]


@pytest.fixture
def cli_url(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`outage ...` commands run against the server's database."""
    monkeypatch.setenv("DATABASE_URL", server.url)
    get_settings.cache_clear()
    yield server.url
    get_settings.cache_clear()


def _ids(url: str) -> dict[str, int]:
    with session_scope(session_factory(url)) as session:
        rows = session.execute(select(Device.asset_ref, Device.id)).all()
        rows += session.execute(select(Premise.ref, Premise.id)).all()
    return dict(rows)


def _incident_id(server: Server, asset_ref: str) -> int:
    for incident in server.client.get("/api/v1/incidents", params={"status": "active"}).json():
        if (incident.get("device") or {}).get("asset_ref") == asset_ref:
            return int(incident["id"])
    raise AssertionError(f"no active incident on {asset_ref}")


def test_a_reimport_is_followed_by_the_running_system_without_a_restart(
    server: Server, cli_url: str, sample_grid: GridModel, transfer: Transfer, tmp_path: Path
) -> None:
    normal = Topology(Network.from_model(sample_grid))
    out = len(normal.downstream(transfer.neighbour_head).accounts)
    _scada(server, transfer.neighbour_head, "open", 1)
    _wait_until(
        lambda: _incident_customers(server, transfer.neighbour_head) == out,
        what="the trip's incident",
    )
    incident = _incident_id(server, transfer.neighbour_head)

    owner = normal.nearest_upstream([transfer.head]).nodes
    transformers = [d for d in sample_grid.devices if d.kind is DeviceKind.TRANSFORMER]
    tap = next(d.from_node for d in transformers if owner.get(d.from_node) == transfer.head)
    served = [p for p in sample_grid.premises if owner.get(p.node) == transfer.head]
    moved = served[0]
    target = next(p.node for p in served if p.node != moved.node)
    edited = with_premise_moved(with_lateral(sample_grid, tap), moved.ref, target)
    ids = _ids(cli_url)
    path = tmp_path / "grid.geojson"
    write_grid(edited, path)

    result = CliRunner().invoke(app, ["grid", "import", "geojson", str(path)])
    assert result.exit_code == 0, result.output

    expected = Topology(Network.from_model(edited))
    serving = expected.nearest_upstream([d.asset_ref for d in transformers]).nodes
    for asset_ref in {
        transfer.head,
        "lateral Trafo",
        serving[moved.node],
        serving[target],
    }:
        assert _trace_customers(server, asset_ref) == len(
            expected.downstream(asset_ref).accounts
        ), asset_ref
    assert (
        _trace_customers(server, transfer.head)
        == len(normal.downstream(transfer.head).accounts) + 2
    )
    after = _ids(cli_url)
    assert {ref: after[ref] for ref in ids} == ids
    assert _incident_id(server, transfer.neighbour_head) == incident
    assert _incident_customers(server, transfer.neighbour_head) == out
