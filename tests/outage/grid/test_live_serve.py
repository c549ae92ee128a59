"""The live network end to end: a running `outage serve --role all` follows SCADA
switching at once, without a restart: traces, incident counts and the engine's view."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from benchmarks.harness import free_port
from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.auth.enums import Role, Scope
from tests.conftest import issue_credentials, own_database
from tests.faults.conftest import STORM_ENV, start_serve
from tests.outage.grid.conftest import Transfer

START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


@dataclass(frozen=True)
class Server:
    """A running `serve --role all`: a dispatcher's client, SCADA's key, its database."""

    client: httpx.Client
    scada: dict[str, str]
    url: str


@pytest.fixture(scope="module")
def server(
    database_url: str, sample_grid: GridModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator["Server"]:
    with own_database(database_url, "live", sample_grid) as url:
        credentials = issue_credentials(url)
        port = free_port()
        log = tmp_path_factory.mktemp("live") / "serve.log"
        process = start_serve("all", url, STORM_ENV, log, port)
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers=credentials.staff(Role.ADMIN)
            ) as client:
                _wait_until(lambda: _healthy(client), what="the server to start", log=log)
                yield Server(client, credentials.key(Scope.SCADA), url)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _healthy(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.TransportError:
        return False


def _wait_until(done: Callable[[], bool], *, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + 60
    while not done():
        if time.monotonic() > deadline:
            detail = log.read_text()[-2000:] if log else ""
            pytest.fail(f"timed out waiting for {what}\n{detail}")
        time.sleep(0.05)


def _scada(server: Server, asset_ref: str, state: str, minute: int) -> None:
    event = {
        "asset_ref": asset_ref,
        "state": state,
        "occurred_at": (START + timedelta(minutes=minute)).isoformat(),
    }
    response = server.client.post("/api/v1/scada/events", json=event, headers=server.scada)
    assert response.status_code == 200, response.text


def _trace_customers(server: Server, asset_ref: str) -> int:
    response = server.client.get(
        f"/api/v1/grid/trace/{quote(asset_ref)}", params={"direction": "down"}
    )
    assert response.status_code == 200, response.text
    customers: int = response.json()["customers"]
    return customers


def _incident_customers(server: Server, asset_ref: str) -> int | None:
    for incident in server.client.get("/api/v1/incidents", params={"status": "active"}).json():
        if (incident.get("device") or {}).get("asset_ref") == asset_ref:
            count: int = incident["customers_affected"]
            return count
    return None


def test_a_scada_transfer_changes_traces_and_incidents_without_a_restart(
    server: Server, sample_grid: GridModel, transfer: Transfer
) -> None:
    network = Network.from_model(sample_grid)
    normal = Topology(network)
    own = len(normal.downstream(transfer.head).accounts)
    neighbour = len(normal.downstream(transfer.neighbour_head).accounts)
    assert _trace_customers(server, transfer.neighbour_head) == neighbour

    _scada(server, transfer.head, "open", 1)
    assert _trace_customers(server, transfer.head) == 0
    _wait_until(
        lambda: _incident_customers(server, transfer.head) == own, what="the trip's incident"
    )

    _scada(server, transfer.tie, "closed", 2)
    assert _trace_customers(server, transfer.neighbour_head) == neighbour + own
    still_out = len(
        Topology(network.switched(close=[transfer.tie])).downstream(transfer.head).accounts
    )
    assert still_out < own
    _wait_until(
        lambda: _incident_customers(server, transfer.head) == still_out,
        what="the incident to count only the customers the tie did not pick up",
    )


def test_an_unknown_device_is_refused_with_its_name(server: Server) -> None:
    event = {"asset_ref": "no-such-switch", "state": "open", "occurred_at": START.isoformat()}
    response = server.client.post("/api/v1/scada/events", json=event, headers=server.scada)
    assert response.status_code == 422
    assert "no-such-switch" in response.json()["detail"]
