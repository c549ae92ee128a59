"""A ten-customer network in a database of its own, and helpers to drive incidents on it.

Two substations: "TBA Alpha" feeds F1 (breaker BR-1), on which fuse FU-A serves A1-A4 and
switch SW-B then fuse FU-B serve B1-B3; "TBA Beta" feeds F2 (breaker BR-2) with C1-C3.
Every premise has a smart meter, "M-" and its account.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from grid_topology.model import (
    Customer,
    Device,
    DeviceKind,
    Feeder,
    GridModel,
    Node,
    Premise,
    Substation,
)
from grid_topology.topology import Topology
from outage.grid.service import load_network
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.schemas import IncidentPatch
from tests.conftest import make_crew, own_database, rolled_back

F1_CUSTOMERS = ("A1", "A2", "A3", "A4", "B1", "B2", "B3")
F2_CUSTOMERS = ("C1", "C2", "C3")
SERVED = len(F1_CUSTOMERS) + len(F2_CUSTOMERS)


def _node(ref: str, x: float, kv: float = 22.0, **extra: Any) -> Node:
    return Node(ref, (106.70 + x / 1000, 10.77), kv, **extra)


def _device(asset_ref: str, kind: DeviceKind, a: str, b: str, x: float) -> Device:
    return Device(asset_ref, kind, a, b, ((106.70 + x / 1000, 10.77),))


def ten_customer_grid() -> GridModel:
    nodes = [
        _node("N-SRC-A", 0, 110.0, substation="TBA Alpha", is_source=True),
        _node("N-BUS-A", 1, substation="TBA Alpha"),
        _node("N-SRC-B", 20, 110.0, substation="TBA Beta", is_source=True),
        _node("N-BUS-B", 21, substation="TBA Beta"),
        *(_node(f"N-{i}", 1 + i) for i in range(1, 7)),
        _node("N-ALV", 5, 0.4),
        _node("N-BLV", 8, 0.4),
        _node("N-CLV", 23, 0.4),
    ]
    devices = [
        _device("T-A", DeviceKind.TRANSFORMER, "N-SRC-A", "N-BUS-A", 0),
        _device("BR-1", DeviceKind.BREAKER, "N-BUS-A", "N-1", 1),
        _device("L-1", DeviceKind.LINE, "N-1", "N-2", 2),
        _device("FU-A", DeviceKind.FUSE, "N-2", "N-3", 3),
        _device("TR-A", DeviceKind.TRANSFORMER, "N-3", "N-ALV", 4),
        _device("SW-B", DeviceKind.SWITCH, "N-2", "N-4", 5),
        _device("FU-B", DeviceKind.FUSE, "N-4", "N-5", 6),
        _device("TR-B", DeviceKind.TRANSFORMER, "N-5", "N-BLV", 7),
        _device("T-B", DeviceKind.TRANSFORMER, "N-SRC-B", "N-BUS-B", 20),
        _device("BR-2", DeviceKind.BREAKER, "N-BUS-B", "N-6", 21),
        _device("TR-C", DeviceKind.TRANSFORMER, "N-6", "N-CLV", 22),
    ]
    lv = {"A": "N-ALV", "B": "N-BLV", "C": "N-CLV"}
    premises = [
        Premise(
            f"P-{account}",
            lv[account[0]],
            (106.70 + i / 1000, 10.771),
            f"{i + 1} Đường Số {account[0]}",
            Customer(account, f"Khách hàng {account}", f"+8491200{i:04d}", None, "vi"),
            meter_id=f"M-{account}",
        )
        for i, account in enumerate(F1_CUSTOMERS + F2_CUSTOMERS)
    ]
    return GridModel(
        substations=[
            Substation("TBA Alpha", (106.70, 10.77)),
            Substation("TBA Beta", (106.72, 10.77)),
        ],
        nodes=nodes,
        devices=devices,
        feeders=[Feeder("F1", "TBA Alpha", "BR-1"), Feeder("F2", "TBA Beta", "BR-2")],
        premises=premises,
    )


def grid_database(database_url: str) -> AbstractContextManager[str]:
    """A new migrated database beside the test one, with the ten-customer grid."""
    return own_database(database_url, "outage_reliability", ten_customer_grid())


@pytest.fixture(scope="session")
def reliability_database(database_url: str) -> Iterator[str]:
    """For tests that roll their work back: no committed incidents, ever."""
    with grid_database(database_url) as url:
        yield url


@pytest.fixture
def session(reliability_database: str) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    with rolled_back(reliability_database) as db:
        yield db


def outage(session: Session, device: str, started_at: datetime, *, cause: str | None = None) -> int:
    """An outage on a device (or on one customer's service, `device="account:A1"`), with
    the customers below it as the engine counts them."""
    account = device.removeprefix("account:") if device.startswith("account:") else None
    asset_ref = None if account else device
    affected = 1 if account else len(Topology(load_network(session)).downstream(device).accounts)
    incident = open_incident(
        session,
        device_asset_ref=asset_ref,
        account=account,
        confidence=1.0,
        customers_affected=affected,
        started_at=started_at,
        reason="reliability test",
    )
    if cause is not None:
        act(session, incident, "set_cause", cause=cause)
    return incident


def act(session: Session, incident: int, action: str, **fields: object) -> None:
    """A dispatcher's or crew's action, as `PATCH /incidents/{id}` applies it."""
    patch = IncidentPatch.model_validate({"action": action, **fields})
    apply_action(session, incident, patch, "dispatcher-1")


def on_site(session: Session, incident: int) -> None:
    """A crew assigned and on site: partial restorations may follow."""
    act(session, incident, "assign", crew_id=make_crew(session))
    act(session, incident, "on_site")


def restore(session: Session, incident: int, when: datetime) -> None:
    act(session, incident, "restored", at=when)
