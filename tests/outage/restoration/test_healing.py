"""Self-healing: a new outage's remote-controlled steps drafted, approved and sent to
SCADA by the system, one at a time, once."""

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from grid_topology.model import GridModel
from outage.auth.enums import Role, Scope
from outage.db import session_factory, session_scope
from outage.grid.live import LiveTopology
from outage.grid.models import Device
from outage.incidents.changes import open_incident
from outage.incidents.enums import IncidentKind
from outage.incidents.models import Incident
from outage.intake.enums import Hazard
from outage.notifications.sink import HttpSink
from outage.orders.execution import Executor, Networks, execute_step
from outage.orders.scada import HttpScada
from outage.restoration import healing
from outage.restoration.errors import NotPlannable
from outage.restoration.healing import advance, heal
from outage.restoration.models import HealingAttempt, RestorationOrder
from outage.restoration.service import Computed, compute
from outage.settings import get_settings
from tests.conftest import Credentials

from .conftest import ISOLATING, LINE, TIE, TRANSFORMER, Outage, trip

ORDERS = "/api/v1/switching/orders"
JOB = "self-healing job"
"""The application name of the job's connection, when a test waits for it."""


@pytest.fixture
def remote(restoration_database: str) -> Iterator[None]:
    """The isolating switches are remote-controlled too: the whole plan is."""
    sessions = session_factory(restoration_database)

    def set_remote(value: bool) -> None:
        with session_scope(sessions) as session:
            session.execute(
                update(Device)
                .where(Device.asset_ref.in_(sorted(ISOLATING)))
                .values(remote_controlled=value)
            )

    set_remote(True)
    yield
    set_remote(False)


def _cycle(url: str, sink: HttpSink, *, name: str | None = None) -> tuple[list[int], list[int]]:
    """One run of the self-healing job: orders started, orders moved (`name`: the
    application name its connection shows in pg_stat_activity meanwhile)."""
    live = LiveTopology()
    with session_scope(session_factory(url)) as session:
        if name is not None:
            session.execute(select(func.set_config("application_name", name, True)))
        network, now = live.views(session), datetime.now(UTC)
        started = heal(session, network=network, settings=get_settings(), now=now)
        scada = HttpScada(f"{sink.url}/commands")
        late_within = get_settings().scada_late_confirmation_minutes
        moved = advance(session, network=network, scada=scada, now=now, late_within=late_within)
        return started, moved


def _commands(sink: HttpSink, order_id: int) -> dict[str, str]:
    """Command id -> device, of this order's commands SCADA took."""
    prefix = f"order-{order_id}-"
    return {k: v["asset_ref"] for k, v in sink.received().items() if k.startswith(prefix)}


def test_remote_steps_are_sent_one_at_a_time_and_the_order_completes_once_confirmed(
    restoration_database: str,
    sample_grid: GridModel,
    client: TestClient,
    credentials: Credentials,
    sink: HttpSink,
    remote: None,
    back_to_normal: None,
) -> None:
    outage = trip(restoration_database, sample_grid, LINE)
    (order_id,), _ = _cycle(restoration_database, sink)
    dispatcher = credentials.staff(Role.DISPATCHER)
    steps = client.get(f"{ORDERS}/{order_id}", headers=dispatcher).json()["steps"]
    for step in steps:
        sent = _commands(sink, order_id)
        assert list(sent.values())[-1] == step["asset_ref"] and len(sent) == step["position"]
        assert _cycle(restoration_database, sink) == ([], [])  # waits for SCADA
        event = {
            "asset_ref": step["asset_ref"],
            "state": "open" if step["action"] == "open" else "closed",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        scada = credentials.key(Scope.SCADA)
        client.post("/api/v1/scada/events", json=event, headers=scada).raise_for_status()
        _cycle(restoration_database, sink)
    order = client.get(f"{ORDERS}/{order_id}", headers=dispatcher).json()
    assert order["state"] == "completed" and order["approved_by"] == "self-healing"
    assert len(_commands(sink, order_id)) == len(steps)
    incident = client.get(f"/api/v1/incidents/{outage.incident_id}", headers=dispatcher).json()
    assert incident["status"] == "restored"
    with session_scope(session_factory(restoration_database)) as session:
        assert session.scalar(
            select(RestorationOrder.automatic).where(RestorationOrder.order_id == order_id)
        )


def test_an_outage_is_healed_once_and_an_abort_stops_it(
    restoration_database: str,
    sample_grid: GridModel,
    client: TestClient,
    credentials: Credentials,
    sink: HttpSink,
    remote: None,
    back_to_normal: None,
) -> None:
    trip(restoration_database, sample_grid, LINE)
    (order_id,), _ = _cycle(restoration_database, sink)
    client.post(
        f"{ORDERS}/{order_id}/abort", headers=credentials.staff(Role.DISPATCHER)
    ).raise_for_status()
    assert _cycle(restoration_database, sink) == ([], [])
    assert len(_commands(sink, order_id)) == 1


def test_an_outage_whose_plans_begin_with_a_manual_step_is_left_to_the_dispatcher(
    restoration_database: str, sample_grid: GridModel, sink: HttpSink, line_fault: Outage
) -> None:
    assert _cycle(restoration_database, sink) == ([], [])


def _attempts(url: str) -> dict[int, tuple[str, int | None, str | None]]:
    """Incident -> what self-healing did with it: outcome, order, reason."""
    with session_scope(session_factory(url)) as session:
        rows = session.scalars(select(HealingAttempt)).all()
        return {a.incident_id: (a.outcome.value, a.order_id, a.reason) for a in rows}


def test_an_incident_with_nothing_remote_is_looked_at_again_and_recorded_once(
    restoration_database: str,
    sink: HttpSink,
    client: TestClient,
    credentials: Credentials,
    line_fault: Outage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planned: list[int] = []

    def counted(session: Session, incident: Incident, *args: Any, **kwargs: Any) -> Computed:
        planned.append(incident.id)
        return compute(session, incident, *args, **kwargs)

    monkeypatch.setattr(healing, "compute", counted)
    _cycle(restoration_database, sink)
    _cycle(restoration_database, sink)
    assert planned == [line_fault.incident_id] * 2  # a trip may still come within the window
    outcome, order_id, reason = _attempts(restoration_database)[line_fault.incident_id]
    assert (outcome, order_id) == ("nothing_remote", None) and reason
    plans = client.get(
        f"/api/v1/incidents/{line_fault.incident_id}/restoration-plans",
        headers=credentials.staff(Role.DISPATCHER),
    ).json()
    assert plans["self_healing"]["outcome"] == "nothing_remote"


def test_an_incident_that_cannot_be_planned_fails_alone(
    restoration_database: str,
    sample_grid: GridModel,
    sink: HttpSink,
    remote: None,
    back_to_normal: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unplannable = trip(restoration_database, sample_grid, TRANSFORMER).incident_id
    healable = trip(restoration_database, sample_grid, LINE).incident_id

    def refusing(session: Session, incident: Incident, *args: Any, **kwargs: Any) -> Computed:
        if incident.id == unplannable:
            raise NotPlannable(f"incident {incident.id} cannot be planned")
        return compute(session, incident, *args, **kwargs)

    monkeypatch.setattr(healing, "compute", refusing)
    (order_id,), moved = _cycle(restoration_database, sink)
    assert moved == [order_id] and _commands(sink, order_id)
    attempts = _attempts(restoration_database)
    assert attempts[unplannable] == (
        "refused",
        None,
        f"incident {unplannable} cannot be planned",
    )
    assert attempts[healable][:2] == ("started", order_id)


def _hazard_at(url: str, asset_ref: str) -> int:
    with session_scope(session_factory(url)) as session:
        return open_incident(
            session,
            kind=IncidentKind.HAZARD,
            hazard=Hazard.WIRES_DOWN,
            device_asset_ref=asset_ref,
            confidence=0.9,
            customers_affected=0,
            started_at=datetime.now(UTC),
            reason="wires down",
        )


def test_a_closing_that_would_feed_a_hazard_reported_since_holds_the_order(
    restoration_database: str,
    sample_grid: GridModel,
    client: TestClient,
    credentials: Credentials,
    sink: HttpSink,
    remote: None,
    back_to_normal: None,
) -> None:
    trip(restoration_database, sample_grid, LINE)
    (order_id,), _ = _cycle(restoration_database, sink)
    hazard = _hazard_at(restoration_database, TIE)
    dispatcher, scada = credentials.staff(Role.DISPATCHER), credentials.key(Scope.SCADA)
    order = client.get(f"{ORDERS}/{order_id}", headers=dispatcher).json()
    while order["state"] == "in_progress":
        (commanded,) = [s for s in order["steps"] if s["state"] == "commanded"]
        event = {
            "asset_ref": commanded["asset_ref"],
            "state": "open" if commanded["action"] == "open" else "closed",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        client.post("/api/v1/scada/events", json=event, headers=scada).raise_for_status()
        _cycle(restoration_database, sink)
        order = client.get(f"{ORDERS}/{order_id}", headers=dispatcher).json()
    (held,) = [s for s in order["steps"] if s["state"] == "failed"]
    assert order["state"] == "held" and held["asset_ref"] == TIE
    assert f"give supply to where hazard incident {hazard} is" in held["remark"]
    assert TIE not in _commands(sink, order_id).values()


def _confirm(client: TestClient, credentials: Credentials, step: dict[str, Any]) -> None:
    """SCADA reports the step's device as the step wants it."""
    event = {
        "asset_ref": step["asset_ref"],
        "state": "open" if step["action"] == "open" else "closed",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    client.post(
        "/api/v1/scada/events", json=event, headers=credentials.key(Scope.SCADA)
    ).raise_for_status()


def _wait_until_blocked(url: str, name: str, holder: int) -> None:
    """Until the connection named `name` waits for a lock the backend `holder` holds (a
    busy machine may take a while to start the job's cycle). Each look is a transaction of
    its own: PostgreSQL keeps the list of connections a transaction first read from
    pg_stat_activity until it ends, so one that connected since would never be seen."""
    sessions = session_factory(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with session_scope(sessions) as session:
            blocked = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = :name AND :holder = ANY(pg_blocking_pids(pid))"
                ),
                {"name": name, "holder": holder},
            )
        if blocked:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never waited for the lock backend {holder} holds")


def test_a_dispatcher_doing_the_next_step_by_hand_meanwhile_does_not_deadlock_with_it(
    restoration_database: str,
    sample_grid: GridModel,
    client: TestClient,
    credentials: Credentials,
    sink: HttpSink,
    remote: None,
    back_to_normal: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The dispatcher locks the step's device, then the order (as execution does): the job
    must take them in that order too."""
    trip(restoration_database, sample_grid, LINE)
    (order_id,), _ = _cycle(restoration_database, sink)
    dispatcher = credentials.staff(Role.DISPATCHER)
    first, second, *_ = client.get(f"{ORDERS}/{order_id}", headers=dispatcher).json()["steps"]
    _confirm(client, credentials, first)
    sessions, live = session_factory(restoration_database), LiveTopology()
    ran: list[tuple[list[int], list[int]]] = []
    with session_scope(sessions) as session:
        session.execute(
            select(Device.id).where(Device.asset_ref == second["asset_ref"]).with_for_update()
        )
        holder = session.execute(select(func.pg_backend_pid())).scalar_one()
        job = threading.Thread(
            target=lambda: ran.append(_cycle(restoration_database, sink, name=JOB))
        )
        job.start()
        _wait_until_blocked(restoration_database, JOB, holder)
        execute_step(
            session,
            order_id,
            second["position"],
            executor=Executor("dispatcher"),
            expected_version=None,
            networks=Networks(live.get(session), live.energized(session)),
            now=datetime.now(UTC),
            late_within=get_settings().scada_late_confirmation_minutes,
            by_hand=True,
        )
    job.join(timeout=30)
    assert ran == [([], [])]  # it found the step it waited for done: left to its next run
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    steps = client.get(f"{ORDERS}/{order_id}", headers=dispatcher).json()["steps"]
    assert (steps[1]["state"], steps[1]["executed_by"]) == ("done", "dispatcher")


def test_an_order_that_fails_after_its_command_was_sent_is_held_not_sent_again(
    restoration_database: str,
    sample_grid: GridModel,
    client: TestClient,
    credentials: Credentials,
    sink: HttpSink,
    remote: None,
    back_to_normal: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def sent_then_failed(*args: Any, **kwargs: Any) -> Any:
        execute_step(*args, **kwargs)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(healing, "execute_step", sent_then_failed)
    trip(restoration_database, sample_grid, LINE)
    (order_id,), moved = _cycle(restoration_database, sink)
    monkeypatch.undo()
    assert moved == []
    order = client.get(f"{ORDERS}/{order_id}", headers=credentials.staff(Role.DISPATCHER)).json()
    first = order["steps"][0]
    assert (order["state"], first["state"]) == ("held", "failed")
    assert first["remark"] == "self-healing failed: RuntimeError('connection lost')"
    assert _cycle(restoration_database, sink) == ([], [])
