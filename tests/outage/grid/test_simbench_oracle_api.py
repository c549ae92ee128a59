"""Switching a real SimBench grid through SCADA events, then tracing it over HTTP, against
pandapower's own topology under the same switch states: what an outside client sees."""

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import SWITCHING_KINDS, DeviceKind, GridModel
from outage.app import create_app
from outage.auth.enums import Role, Scope
from outage.db import session_factory, session_scope
from outage.grid.bulk import bulk_save_grid
from tests.conftest import Credentials, issue_credentials, own_database

pytest.importorskip("pandapower")
pytest.importorskip("simbench")

from tests.grid_topology.oracle import Oracle

CODE = "1-MVLV-urban-all-0-sw"
STEPS = 6
SAMPLE = 6
"""Closed devices traced after each step."""
pytestmark = pytest.mark.simbench


@pytest.fixture(scope="module")
def net() -> Any:
    from grid_topology.simbench import load_simbench_net

    return load_simbench_net(CODE)


@pytest.fixture(scope="module")
def model(net: Any) -> GridModel:
    from grid_topology.simbench import from_pandapower

    return from_pandapower(net)


@pytest.fixture(scope="module")
def served(database_url: str, model: GridModel) -> Iterator[tuple[TestClient, Credentials]]:
    # The fast first import: what is checked is the traces, and test_simbench_import puts this
    # grid through save_grid already.
    with own_database(database_url, "oracle") as url:
        with session_scope(session_factory(url)) as session:
            bulk_save_grid(session, model)
        credentials = issue_credentials(url, roles=[Role.DISPATCHER], scopes=[Scope.SCADA])
        with TestClient(create_app(url)) as client:
            yield client, credentials


class Switchboard:
    """Random SCADA switching over HTTP: each step opens a closed device (its kind drawn
    first, so breakers and fuses come up as often as the many switches) and closes an open
    one (a normally open tie, or one an earlier step opened)."""

    def __init__(self, client: TestClient, credentials: Credentials, model: GridModel) -> None:
        self.client = client
        self.scada = credentials.key(Scope.SCADA)
        self.staff = credentials.staff(Role.DISPATCHER)
        self.rng = random.Random(7)
        self.normal = {d.asset_ref: d.is_open for d in model.devices if d.kind in SWITCHING_KINDS}
        self.kinds = {d.asset_ref: d.kind for d in model.devices}
        self.state = dict(self.normal)
        self.at = datetime.now(UTC) - timedelta(minutes=30)

    def step(self) -> None:
        closed: dict[DeviceKind, list[str]] = {}
        for asset_ref, is_open in sorted(self.state.items()):
            if not is_open:
                closed.setdefault(self.kinds[asset_ref], []).append(asset_ref)
        self._send(self.rng.choice(closed[self.rng.choice(sorted(closed))]), "open")
        open_ = sorted(a for a, is_open in self.state.items() if is_open)
        self._send(self.rng.choice(open_), "closed")

    def _send(self, asset_ref: str, state: str) -> None:
        self.at += timedelta(seconds=10)
        event = {"asset_ref": asset_ref, "state": state, "occurred_at": self.at.isoformat()}
        response = self.client.post("/api/v1/scada/events", json=event, headers=self.scada)
        assert response.status_code == 200, response.text
        self.state[asset_ref] = state == "open"

    def changed(self) -> tuple[list[str], list[str]]:
        """Devices opened and closed against the normal state."""
        moved = [a for a, is_open in self.state.items() if is_open != self.normal[a]]
        return [a for a in moved if self.state[a]], [a for a in moved if not self.state[a]]

    def trace(self, asset_ref: str) -> int:
        response = self.client.get(
            f"/api/v1/grid/trace/{quote(asset_ref)}",
            params={"direction": "down"},
            headers=self.staff,
        )
        assert response.status_code == 200, response.text
        customers: int = response.json()["customers"]
        return customers


def test_traces_over_http_follow_scada_switching_like_pandapower(
    served: tuple[TestClient, Credentials], net: Any, model: GridModel
) -> None:
    board, oracle = Switchboard(*served, model), Oracle(net)
    wrong = []
    for step in range(STEPS):
        board.step()
        opened, closed = board.changed()
        candidates = sorted(a for a, is_open in board.state.items() if not is_open)
        with oracle.switched(opened, close=closed):
            unsupplied = oracle.unsupplied_accounts()
            for asset_ref in board.rng.sample(candidates, SAMPLE):
                expected = oracle.unsupplied_accounts(opening=asset_ref) - unsupplied
                if board.trace(asset_ref) != len(expected):
                    wrong.append((step, asset_ref))
    assert wrong == []
