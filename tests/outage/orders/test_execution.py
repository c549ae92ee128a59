"""Carrying out steps against the live state: a verify step compares the device with the
state it expects, and a step finding its device already so operates nothing."""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.models import Device, SwitchOperation
from outage.orders.timeouts import fail_unconfirmed
from tests.conftest import Credentials

from .conftest import ORDERS, Feeders

TIMEOUT = timedelta(minutes=2)


def _draft(client: TestClient, credentials: Credentials, *steps: dict[str, Any]) -> Any:
    body = {"title": "against the live state", "steps": list(steps)}
    return client.post(ORDERS, json=body, headers=credentials.staff(Role.DISPATCHER))


def _started(client: TestClient, credentials: Credentials, *steps: dict[str, Any]) -> int:
    drafted = _draft(client, credentials, *steps)
    assert drafted.status_code == 201, drafted.text
    order_id: int = drafted.json()["id"]
    path = f"{ORDERS}/{order_id}"
    client.post(f"{path}/approve", headers=credentials.staff(Role.SUPERVISOR)).raise_for_status()
    client.post(f"{path}/start", headers=credentials.staff(Role.DISPATCHER)).raise_for_status()
    return order_id


def _open_by_hand(client: TestClient, credentials: Credentials, asset_ref: str) -> None:
    body = {"asset_ref": asset_ref, "state": "open", "occurred_at": datetime.now(UTC).isoformat()}
    client.post(
        "/api/v1/grid/operations", json=body, headers=credentials.staff(Role.DISPATCHER)
    ).raise_for_status()


def _execute(client: TestClient, credentials: Credentials, order_id: int, position: int) -> Any:
    path = f"{ORDERS}/{order_id}/steps/{position}/execute"
    return client.post(path, headers=credentials.staff(Role.DISPATCHER))


def _operations(url: str, asset_ref: str) -> int:
    with session_scope(session_factory(url)) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(SwitchOperation)
                .join(Device, Device.id == SwitchOperation.device_id)
                .where(Device.asset_ref == asset_ref)
            )
            or 0
        )


def test_a_verify_step_on_a_device_in_another_state_is_refused_and_changes_nothing(
    client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    switch = switches[0]
    order_id = _started(
        client, credentials, {"action": "verify", "asset_ref": switch, "expect": "closed"}
    )
    _open_by_hand(client, credentials, switch)
    before = client.get(f"{ORDERS}/{order_id}", headers=credentials.staff()).json()
    refused = _execute(client, credentials, order_id, 1)
    assert refused.status_code == 409
    assert f"verifies {switch} is closed, but it is open" in refused.json()["detail"]
    after = client.get(f"{ORDERS}/{order_id}", headers=credentials.staff()).json()
    assert (after["version"], after["steps"][0]["state"]) == (before["version"], "pending")


def test_a_verify_step_on_a_device_as_expected_is_done(
    client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    order_id = _started(
        client, credentials, {"action": "verify", "asset_ref": switches[1], "expect": "closed"}
    )
    done = _execute(client, credentials, order_id, 1).json()
    assert done["steps"][0]["state"] == "done"


def test_a_verify_step_without_a_state_expects_what_the_steps_before_leave(
    client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    switch = switches[2]
    drafted = _draft(
        client,
        credentials,
        {"action": "verify", "asset_ref": switch},
        {"action": "open", "asset_ref": switch},
        {"action": "verify", "asset_ref": switch},
    )
    assert [s["expect"] for s in drafted.json()["steps"]] == ["closed", None, "open"]


def test_a_draft_verifying_a_state_its_steps_do_not_leave_is_refused(
    client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    switch = switches[3]
    drafted = _draft(
        client,
        credentials,
        {"action": "open", "asset_ref": switch},
        {"action": "verify", "asset_ref": switch, "expect": "closed"},
    )
    assert drafted.status_code == 422
    assert f"step 2 verifies {switch} is closed, but it would be open" in drafted.text


def test_only_a_verify_step_says_which_state_it_expects(
    client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    drafted = _draft(
        client, credentials, {"action": "open", "asset_ref": switches[4], "expect": "open"}
    )
    assert drafted.status_code == 422


def test_opening_a_device_already_open_is_done_without_an_operation(
    orders_database: str, client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    switch = switches[5]
    order_id = _started(client, credentials, {"action": "open", "asset_ref": switch})
    _open_by_hand(client, credentials, switch)
    operations = _operations(orders_database, switch)
    done = _execute(client, credentials, order_id, 1).json()
    assert done["steps"][0]["state"] == "done"
    assert done["steps"][0]["remark"] == f"{switch} was already open: nothing operated"
    assert _operations(orders_database, switch) == operations


def test_the_switching_log_names_the_order_and_step_that_operated_a_device(
    orders_database: str, client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    switch = switches[6]
    order_id = _started(client, credentials, {"action": "open", "asset_ref": switch})
    _execute(client, credentials, order_id, 1).raise_for_status()
    with session_scope(session_factory(orders_database)) as session:
        latest = session.scalars(
            select(SwitchOperation)
            .join(Device, Device.id == SwitchOperation.device_id)
            .where(Device.asset_ref == switch)
            .order_by(SwitchOperation.id.desc())
        ).first()
        assert latest is not None
        assert (latest.order_id, latest.step_position) == (order_id, 1)


def test_a_closing_that_makes_a_loop_with_another_orders_commanded_closing_is_refused(
    client: TestClient, scada_client: TestClient, credentials: Credentials, feeders: Feeders
) -> None:
    _open_by_hand(client, credentials, feeders.section)
    by_tie = _started(scada_client, credentials, {"action": "close", "asset_ref": feeders.tie})
    by_section = _started(
        scada_client, credentials, {"action": "close", "asset_ref": feeders.section}
    )
    commanded = _execute(scada_client, credentials, by_tie, 1).json()
    assert commanded["steps"][0]["state"] == "commanded"
    refused = _execute(scada_client, credentials, by_section, 1)
    assert refused.status_code == 409 and "(a loop)" in refused.json()["detail"]
    _abort(client, credentials, by_tie, by_section)


def _abort(client: TestClient, credentials: Credentials, *order_ids: int) -> None:
    """The module's tests share a database: a commanded closing left would count in the
    next test's loop checks."""
    for order_id in order_ids:
        client.post(
            f"{ORDERS}/{order_id}/abort", headers=credentials.staff(Role.DISPATCHER)
        ).raise_for_status()


def test_a_closing_that_makes_a_loop_with_a_closing_that_timed_out_is_refused(
    orders_database: str,
    client: TestClient,
    scada_client: TestClient,
    credentials: Credentials,
    feeders: Feeders,
) -> None:
    """SCADA may still carry out a closing whose step failed unconfirmed, as long as a late
    confirmation would count."""
    _open_by_hand(client, credentials, feeders.section)
    by_tie = _started(scada_client, credentials, {"action": "close", "asset_ref": feeders.tie})
    by_section = _started(
        scada_client, credentials, {"action": "close", "asset_ref": feeders.section}
    )
    commanded = _execute(scada_client, credentials, by_tie, 1).json()
    sent = datetime.fromisoformat(commanded["steps"][0]["commanded_at"])
    with session_scope(session_factory(orders_database)) as session:
        assert fail_unconfirmed(session, sent + TIMEOUT, timeout=TIMEOUT)
    refused = _execute(scada_client, credentials, by_section, 1)
    assert refused.status_code == 409 and "(a loop)" in refused.json()["detail"]
    _abort(client, credentials, by_tie, by_section)
