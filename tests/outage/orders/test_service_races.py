"""Two approvals racing for one device: the device's lock makes them go one after the
other, so the second finds the first holding it."""

import threading
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.db import session_factory, session_scope
from outage.orders import service
from outage.orders.enums import StepAction
from outage.orders.errors import OrderConflict
from outage.orders.schemas import OrderIn, StepIn
from outage.settings import get_settings

from .conftest import Feeders

NOW = datetime.now(UTC)


def _draft(session: Session, topology: Topology, asset_ref: str) -> int:
    order = OrderIn(title="race", steps=[StepIn(action=StepAction.VERIFY, asset_ref=asset_ref)])
    return service.draft(session, order, actor="drafter", topology=topology, now=NOW).id


def _approve(session: Session, topology: Topology, order_id: int) -> None:
    service.approve(
        session,
        order_id,
        actor="approver",
        may_approve=True,
        expected_version=None,
        topology=topology,
        operated=topology,
        now=NOW,
        settings=get_settings(),
    )


def test_the_second_of_two_racing_approvals_is_refused(
    orders_database: str, sample_grid: GridModel, feeders: Feeders
) -> None:
    topology = Topology(Network.from_model(sample_grid))
    sessions = session_factory(orders_database)
    with session_scope(sessions) as session:
        first, second = (_draft(session, topology, feeders.tie) for _ in range(2))
    refused: list[Exception] = []
    holding = threading.Event()

    def approve_second() -> None:
        holding.wait()
        try:
            with session_scope(sessions) as session:
                _approve(session, topology, second)
        except OrderConflict as error:
            refused.append(error)

    racer = threading.Thread(target=approve_second)
    racer.start()
    with session_scope(sessions) as session:
        _approve(session, topology, first)
        holding.set()  # the second now waits on the device's lock until this commits
        racer.join(timeout=0.5)
        assert racer.is_alive()
    racer.join(timeout=10)
    assert [str(e) for e in refused] == [
        f"order {first} (approved) already holds device {feeders.tie!r}: "
        f"finish or abort it before order {second}"
    ]
