"""Plans on the sample grid: a fault on a line isolated, the near part fed again by the
breaker and the far part through the tie; orders drafted once per plan."""

from datetime import UTC, datetime

import pytest

from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.db import session_factory, session_scope
from outage.grid.enums import SwitchSource
from outage.grid.live import LiveTopology
from outage.grid.switching import operate
from outage.intake.schemas import ScadaEventIn
from outage.intake.service import record_scada_event
from outage.orders.enums import StepAction
from outage.restoration.errors import StalePlan
from outage.restoration.service import order_plan, restoration_plans
from outage.settings import get_settings

from .conftest import BREAKER, ISOLATING, LINE, TIE, Outage, trip


def test_a_line_fault_is_isolated_and_the_rest_fed_through_the_tie(
    restoration_database: str, line_fault: Outage
) -> None:
    live = LiveTopology()
    with session_scope(session_factory(restoration_database)) as session:
        found = restoration_plans(
            session,
            line_fault.incident_id,
            network=live.views(session),
            settings=get_settings(),
            now=datetime.now(UTC),
        )
    best = found.plans[0]
    opened = {s.asset_ref for s in best.steps if s.action is StepAction.OPEN}
    closed = [s.asset_ref for s in best.steps if s.action is StepAction.CLOSE]
    assert found.operated == [BREAKER]
    assert opened == ISOLATING and sorted(closed) == sorted([BREAKER, TIE])
    assert best.customers_restored == line_fault.customers == found.customers_out
    assert best.customers_left_out == 0 and best.radial and best.peak_loading <= 1
    assert sum(s.customers_restored for s in best.steps) == best.customers_restored
    assert [s.at_seconds for s in best.steps] == sorted(s.at_seconds for s in best.steps)


def test_the_same_plan_ordered_twice_is_one_order(
    restoration_database: str, line_fault: Outage
) -> None:
    live = LiveTopology()
    drafted = []
    for _ in range(2):
        with session_scope(session_factory(restoration_database)) as session:
            network = live.views(session)
            plans = restoration_plans(
                session,
                line_fault.incident_id,
                network=network,
                settings=get_settings(),
                now=datetime.now(UTC),
            )
            drafted.append(
                order_plan(
                    session,
                    line_fault.incident_id,
                    1,
                    plans.network_version,
                    actor="dispatcher",
                    network=network,
                    settings=get_settings(),
                    now=datetime.now(UTC),
                )
            )
    (first, created), (again, created_again) = drafted
    assert created and not created_again and first.id == again.id
    assert first.incident_id == line_fault.incident_id
    assert [s.asset_ref for s in first.steps] == [s.asset_ref for s in plans.plans[0].steps]


def test_a_plan_on_a_network_switched_since_is_refused(
    restoration_database: str, line_fault: Outage
) -> None:
    live = LiveTopology()
    with session_scope(session_factory(restoration_database)) as session:
        seen = restoration_plans(
            session,
            line_fault.incident_id,
            network=live.views(session),
            settings=get_settings(),
            now=datetime.now(UTC),
        ).network_version
        operate(
            session,
            TIE,
            is_open=False,
            occurred_at=datetime.now(UTC),
            source=SwitchSource.DISPATCHER,
            actor="someone else",
        )
    with (
        session_scope(session_factory(restoration_database)) as session,
        pytest.raises(StalePlan, match=TIE),
    ):
        order_plan(
            session,
            line_fault.incident_id,
            1,
            seen,
            actor="dispatcher",
            network=live.views(session),
            settings=get_settings(),
            now=datetime.now(UTC),
        )


def test_fault_indications_narrow_a_breaker_outage_to_the_span_past_the_last_one_passed(
    restoration_database: str, sample_grid: GridModel, back_to_normal: None
) -> None:
    """The breaker trips and its outage is on the breaker: the switch before the line saw
    fault current, the one after did not, so only the line's section stays dead."""
    outage = trip(restoration_database, sample_grid, BREAKER)
    path = Topology(Network.from_model(sample_grid)).upstream(LINE).devices
    (before,) = ISOLATING & set(path)
    (after,) = ISOLATING - {before}
    with session_scope(session_factory(restoration_database)) as session:
        for asset_ref, passed in ((before, True), (after, False)):
            event = ScadaEventIn(
                asset_ref=asset_ref, fault_passed=passed, occurred_at=datetime.now(UTC)
            )
            record_scada_event(session, event, max_age=get_settings().event_max_age_hours)
        found = restoration_plans(
            session,
            outage.incident_id,
            network=LiveTopology().views(session),
            settings=get_settings(),
            now=datetime.now(UTC),
        )
    opened = {s.asset_ref for s in found.plans[0].steps if s.action is StepAction.OPEN}
    assert opened == ISOLATING
    assert found.plans[0].customers_restored == outage.customers
