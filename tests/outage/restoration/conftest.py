"""A database of its own for the restoration tests (they trip breakers and switch), and
an outage on the sample grid's first feeder: its head breaker tripped on a fault."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.db import session_factory, session_scope
from outage.grid.enums import SwitchSource
from outage.grid.switching import abnormal_devices, operate
from outage.incidents.changes import open_incident, restore
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.orders.enums import HOLDING, OrderState
from outage.orders.models import SwitchingOrder
from tests.conftest import own_database
from tests.outage import database_per_module

BREAKER = "MV3.101 Switch 12"
"""The first feeder's head."""
LINE = "MV3.101 Line 6"
"""A line between two switches in the middle of the feeder: a fault there leaves both
ends healthy, the near one fed again by the breaker, the far one through the tie."""
TIE = "MV3.101 loop_line_switch 1.2"
ISOLATING = frozenset({"MV3.101 Switch 28", "MV3.101 Switch 18"})
TRANSFORMER = "MV3.101-LV4.304-Trafo 1"
"""A transformer on the feeder: a fault there leaves its customers out until the repair."""


@dataclass(frozen=True)
class Outage:
    incident_id: int
    customers: int
    """Out since the breaker tripped."""


@pytest.fixture(scope="module")
def restoration_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "restoration", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def module_database(restoration_database: str) -> str:
    """The database of `client` and `credentials`."""
    return restoration_database


client = database_per_module.client
credentials = database_per_module.credentials


def _back_to_normal(url: str) -> None:
    """Every order off, every outage restored, every device as it normally is."""
    now = datetime.now(UTC)
    with session_scope(session_factory(url)) as session:
        session.execute(
            update(SwitchingOrder)
            .where(SwitchingOrder.state.in_([OrderState.DRAFT, *HOLDING]))
            .values(state=OrderState.ABORTED, finished_at=now, finished_by="test")
        )
        for incident in session.query(Incident).where(Incident.status.in_(ACTIVE)).all():
            restore(session, incident.id, at=now, reason="test over", notify=False)
        for device in abnormal_devices(session):
            operate(
                session,
                device.asset_ref,
                is_open=device.normal_open,
                occurred_at=now,
                source=SwitchSource.DISPATCHER,
                actor="test",
            )


def trip(url: str, sample_grid: GridModel, device: str) -> Outage:
    """The breaker trips on a fault at `device`: an outage there, its customers those the
    device feeds, as when a crew found the fault and the incident was placed on it."""
    normal = Topology(Network.from_model(sample_grid))
    customers = len(normal.downstream(BREAKER).accounts)
    started = datetime.now(UTC)
    with session_scope(session_factory(url)) as session:
        operate(
            session,
            BREAKER,
            is_open=True,
            occurred_at=started,
            source=SwitchSource.SCADA,
            actor="scada",
        )
        incident_id = open_incident(
            session,
            device_asset_ref=device,
            confidence=1.0,
            customers_affected=len(normal.downstream(device).accounts),
            started_at=started,
            reason="fault found by a crew",
        )
    return Outage(incident_id, customers)


@pytest.fixture
def line_fault(restoration_database: str, sample_grid: GridModel) -> Iterator[Outage]:
    yield trip(restoration_database, sample_grid, LINE)
    _back_to_normal(restoration_database)


@pytest.fixture
def transformer_fault(restoration_database: str, sample_grid: GridModel) -> Iterator[Outage]:
    yield trip(restoration_database, sample_grid, TRANSFORMER)
    _back_to_normal(restoration_database)


@pytest.fixture
def back_to_normal(restoration_database: str) -> Iterator[None]:
    """For a test that makes its own outage: everything back to normal after it."""
    yield
    _back_to_normal(restoration_database)
