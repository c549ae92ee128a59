"""A step SCADA never confirms: it fails at its deadline and holds the order, which the
dispatcher retries or aborts; a confirmation that comes late is still recorded."""

from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from fastapi.testclient import TestClient
from sqlalchemy import update

from outage.auth.enums import Role, Scope
from outage.db import session_factory, session_scope
from outage.notifications.sink import HttpSink
from outage.orders.jobs import jobs
from outage.orders.models import SwitchingStep
from outage.orders.timeouts import fail_unconfirmed, spoken
from outage.settings import get_settings
from tests.conftest import Credentials

from .conftest import ORDERS

TIMEOUT = timedelta(minutes=2)


def _commanded(client: TestClient, credentials: Credentials, asset_ref: str) -> dict[str, Any]:
    """A started order opening `asset_ref`, its step sent to SCADA."""
    body = {"title": "by SCADA", "steps": [{"action": "open", "asset_ref": asset_ref}]}
    dispatcher = credentials.staff(Role.DISPATCHER)
    order = client.post(ORDERS, json=body, headers=dispatcher).json()
    path = f"{ORDERS}/{order['id']}"
    client.post(f"{path}/approve", headers=credentials.staff(Role.SUPERVISOR)).raise_for_status()
    client.post(f"{path}/start", headers=dispatcher).raise_for_status()
    sent = client.post(f"{path}/steps/1/execute", headers=dispatcher)
    assert sent.status_code == 200, sent.text
    answer: dict[str, Any] = sent.json()
    assert answer["steps"][0]["state"] == "commanded"
    return answer


def _fail_at(url: str, moment: datetime) -> None:
    with session_scope(session_factory(url)) as session:
        fail_unconfirmed(session, moment, timeout=TIMEOUT)


def _held(url: str, client: TestClient, credentials: Credentials, asset_ref: str) -> dict[str, Any]:
    """An order held on its step, SCADA having said nothing for longer than the timeout."""
    order = _commanded(client, credentials, asset_ref)
    sent = datetime.fromisoformat(order["steps"][0]["commanded_at"])
    _fail_at(url, sent + TIMEOUT + timedelta(minutes=3))
    return _get(client, credentials, order["id"])


def _get(client: TestClient, credentials: Credentials, order_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(
        f"{ORDERS}/{order_id}", headers=credentials.staff(Role.DISPATCHER)
    ).json()
    return answer


def test_a_step_scada_never_confirms_fails_at_its_deadline_and_holds_the_order(
    orders_database: str, scada_client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    order = _held(orders_database, scada_client, credentials, switches[0])
    [step] = order["steps"]
    sent = datetime.fromisoformat(step["commanded_at"])
    assert order["state"] == "held" and step["state"] == "failed"
    assert datetime.fromisoformat(step["failed_at"]) == sent + TIMEOUT
    assert step["remark"] == "no confirmation from SCADA within 2 minutes"


def test_a_step_within_its_time_keeps_waiting(
    orders_database: str, scada_client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    order = _commanded(scada_client, credentials, switches[1])
    sent = datetime.fromisoformat(order["steps"][0]["commanded_at"])
    _fail_at(orders_database, sent + TIMEOUT - timedelta(seconds=1))
    again = _get(scada_client, credentials, order["id"])
    assert (again["state"], again["steps"][0]["state"]) == ("in_progress", "commanded")


def test_a_held_order_cannot_be_completed(
    orders_database: str, scada_client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    order = _held(orders_database, scada_client, credentials, switches[2])
    answer = scada_client.post(
        f"{ORDERS}/{order['id']}/complete", headers=credentials.staff(Role.DISPATCHER)
    )
    assert answer.status_code == 409 and "held" in answer.json()["detail"]


def test_retrying_the_failed_step_sends_a_new_command(
    orders_database: str,
    scada_client: TestClient,
    credentials: Credentials,
    switches: list[str],
    sink: HttpSink,
) -> None:
    order = _held(orders_database, scada_client, credentials, switches[3])
    path = f"{ORDERS}/{order['id']}/steps/1/execute"
    retried = scada_client.post(path, headers=credentials.staff(Role.DISPATCHER)).json()
    assert (retried["state"], retried["steps"][0]["state"]) == ("in_progress", "commanded")
    assert retried["steps"][0]["remark"] is None
    assert f"order-{order['id']}-step-1-try-2" in sink.received()


def test_a_held_order_may_be_aborted(
    orders_database: str, scada_client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    order = _held(orders_database, scada_client, credentials, switches[4])
    aborted = scada_client.post(
        f"{ORDERS}/{order['id']}/abort", headers=credentials.staff(Role.DISPATCHER)
    )
    assert aborted.json()["state"] == "aborted"


def test_a_late_confirmation_is_recorded_as_the_orders_operation(
    orders_database: str, scada_client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    switch = switches[5]
    order = _held(orders_database, scada_client, credentials, switch)
    event = {"asset_ref": switch, "state": "open", "occurred_at": datetime.now(UTC).isoformat()}
    scada_client.post(
        "/api/v1/scada/events", json=event, headers=credentials.key(Scope.SCADA)
    ).raise_for_status()
    dispatcher = credentials.staff(Role.DISPATCHER)
    abnormal = scada_client.get("/api/v1/grid/abnormal", headers=dispatcher).json()
    listed = next(d for d in abnormal if d["asset_ref"] == switch)
    assert listed["source"] == "order" and not listed["tripped"]
    assert listed["reason"].startswith(f"order {order['id']} step 1")
    held = _get(scada_client, credentials, order["id"])
    assert held["state"] == "held" and "SCADA reported" in held["steps"][0]["remark"]


def test_a_step_confirmed_late_is_then_confirmed_without_a_new_command(
    orders_database: str,
    scada_client: TestClient,
    credentials: Credentials,
    switches: list[str],
    sink: HttpSink,
) -> None:
    switch = switches[6]
    order = _held(orders_database, scada_client, credentials, switch)
    event = {"asset_ref": switch, "state": "open", "occurred_at": datetime.now(UTC).isoformat()}
    scada_client.post(
        "/api/v1/scada/events", json=event, headers=credentials.key(Scope.SCADA)
    ).raise_for_status()
    path = f"{ORDERS}/{order['id']}/steps/1/execute"
    done = scada_client.post(path, headers=credentials.staff(Role.DISPATCHER)).json()
    assert (done["state"], done["steps"][0]["state"]) == ("in_progress", "done")
    assert done["steps"][0]["remark"] == f"{switch} was already open: nothing operated"
    assert f"order-{order['id']}-step-1-try-2" not in sink.received()


def _report(client: TestClient, credentials: Credentials, asset_ref: str, at: datetime) -> None:
    event = {"asset_ref": asset_ref, "state": "open", "occurred_at": at.isoformat()}
    client.post(
        "/api/v1/scada/events", json=event, headers=credentials.key(Scope.SCADA)
    ).raise_for_status()


def _taken_for_the_order(client: TestClient, credentials: Credentials, order_id: int) -> bool:
    remark: str = _get(client, credentials, order_id)["steps"][0]["remark"]
    return "SCADA reported" in remark


def test_an_event_long_after_the_command_is_not_taken_for_its_late_confirmation(
    orders_database: str, scada_client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    switch = switches[9]
    order = _held(orders_database, scada_client, credentials, switch)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with session_scope(session_factory(orders_database)) as session:
        session.execute(
            update(SwitchingStep)
            .where(SwitchingStep.order_id == order["id"])
            .values(commanded_at=long_ago, failed_at=long_ago + TIMEOUT)
        )
    _report(scada_client, credentials, switch, datetime.now(UTC))
    assert not _taken_for_the_order(scada_client, credentials, order["id"])
    abnormal = scada_client.get("/api/v1/grid/abnormal", headers=credentials.staff()).json()
    assert next(d for d in abnormal if d["asset_ref"] == switch)["source"] == "scada"


def test_an_event_before_the_command_is_not_taken_for_its_late_confirmation(
    orders_database: str, scada_client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    switch = switches[10]
    order = _held(orders_database, scada_client, credentials, switch)
    sent = datetime.fromisoformat(order["steps"][0]["commanded_at"])
    _report(scada_client, credentials, switch, sent - timedelta(seconds=30))
    assert not _taken_for_the_order(scada_client, credentials, order["id"])


def test_the_switching_page_shows_why_an_order_is_held(
    orders_database: str, scada_client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    order = _held(orders_database, scada_client, credentials, switches[7])
    page = scada_client.get("/switching?lang=en", headers=credentials.staff(Role.DISPATCHER))
    row = page.text[page.text.index(f'id="order-{order["id"]}"') :]
    assert "Held at step 1: no confirmation from SCADA within 2 minutes" in row[:2000]


def test_the_engine_job_fails_the_steps_whose_time_ran_out(
    orders_database: str, scada_client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    order = _commanded(scada_client, credentials, switches[8])
    sessions = session_factory(orders_database)
    settings = get_settings().model_copy(update={"scada_command_timeout_seconds": TIMEOUT})
    with session_scope(sessions) as session:
        session.execute(
            update(SwitchingStep)
            .where(SwitchingStep.order_id == order["id"])
            .values(commanded_at=datetime.now(UTC) - TIMEOUT - timedelta(seconds=5))
        )
    scheduler = BackgroundScheduler(timezone=UTC)
    jobs(sessions, settings)(scheduler)
    job = scheduler.get_job("order-step-timeouts")
    assert job is not None
    job.func()
    assert _get(scada_client, credentials, order["id"])["state"] == "held"


def test_a_timeout_is_said_as_a_person_says_it() -> None:
    assert [spoken(timedelta(seconds=s)) for s in (90, 120, 60, 3600, 1)] == [
        "90 seconds",
        "2 minutes",
        "1 minute",
        "1 hour",
        "1 second",
    ]
