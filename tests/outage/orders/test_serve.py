"""Switching orders end to end: a running `outage serve --role all` sends a step to the
simulation's SCADA field, which operates the device and reports it back."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.harness import free_port
from grid_topology.model import GridModel
from outage.auth.enums import Role, Scope
from outage.simulation.scada import ScadaField, poster
from tests.conftest import Credentials, issue_credentials, own_database
from tests.faults.conftest import STORM_ENV, start_serve

from .conftest import ORDERS, Feeders


@dataclass(frozen=True)
class Running:
    client: httpx.Client
    credentials: Credentials
    field: ScadaField
    log: Path


def _wait_until(done: Callable[[], bool], *, what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{log.read_text()[-2000:]}")
        time.sleep(0.05)


def _healthy(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def running(
    database_url: str, sample_grid: GridModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    with own_database(database_url, "orders_serve", sample_grid) as url:
        credentials = issue_credentials(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = tmp_path_factory.mktemp("orders") / "serve.log"
        report = poster(base, credentials.keys[Scope.SCADA])
        with ScadaField(report, delay_s=0.2) as field:
            env = {**STORM_ENV, "OUTAGE_SCADA_COMMAND_URL": field.url}
            process = start_serve("all", url, env, log, port)
            try:
                with httpx.Client(base_url=base) as client:
                    _wait_until(lambda: _healthy(client), what="the server to start", log=log)
                    yield Running(client, credentials, field, log)
            finally:
                process.terminate()
                process.wait(timeout=30)


def _post(running: Running, path: str, role: Role, body: Any = None) -> dict[str, Any]:
    response = running.client.post(path, json=body, headers=running.credentials.staff(role))
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_breaker_opened_through_scada_completes_the_step_and_is_no_outage(
    running: Running, feeders: Feeders
) -> None:
    breaker = feeders.neighbour_head
    body = {"title": "open the feeder", "steps": [{"action": "open", "asset_ref": breaker}]}
    order = _post(running, ORDERS, Role.DISPATCHER, body)
    path = f"{ORDERS}/{order['id']}"
    _post(running, f"{path}/approve", Role.SUPERVISOR)
    _post(running, f"{path}/start", Role.DISPATCHER)
    sent = _post(running, f"{path}/steps/1/execute", Role.DISPATCHER)
    assert sent["steps"][0]["state"] == "commanded"
    headers = running.credentials.staff(Role.DISPATCHER)

    def done() -> bool:
        step = running.client.get(path, headers=headers).json()["steps"][0]
        return bool(step["state"] == "done")

    _wait_until(done, what="SCADA to report the breaker open", log=running.log)
    assert [c["asset_ref"] for c in running.field.commands] == [breaker]
    abnormal = running.client.get("/api/v1/grid/abnormal", headers=headers).json()
    listed = next(d for d in abnormal if d["asset_ref"] == breaker)
    assert listed["source"] == "order" and listed["tripped"] is False
