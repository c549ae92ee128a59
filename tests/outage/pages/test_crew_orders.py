"""The crew page's switching orders: the crew's steps, each confirmed with a plain form."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import DeviceKind, GridModel
from outage.app import create_app
from outage.auth.enums import Role
from tests.conftest import Credentials, issue_credentials, own_database

ORDERS = "/api/v1/switching/orders"


@pytest.fixture(scope="module")
def setting(database_url: str, sample_grid: GridModel) -> Iterator[tuple[TestClient, Credentials]]:
    with (
        own_database(database_url, "crew_orders", sample_grid) as url,
        TestClient(create_app(url)) as client,
    ):
        yield client, issue_credentials(url)


@pytest.fixture(scope="module")
def order(setting: tuple[TestClient, Credentials], sample_grid: GridModel) -> dict[str, Any]:
    """A started order of the test crew: verify a switch, then open it."""
    client, credentials = setting
    switch = [d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.SWITCH][-1]
    body = {
        "title": "open for the pole",
        "crew_id": credentials.crew_id,
        "steps": [
            {"action": "verify", "asset_ref": switch, "note": "check the tag"},
            {"action": "open", "asset_ref": switch},
        ],
    }
    made: dict[str, Any] = client.post(
        ORDERS, json=body, headers=credentials.staff(Role.DISPATCHER)
    ).json()
    path = f"{ORDERS}/{made['id']}"
    client.post(f"{path}/approve", headers=credentials.staff(Role.SUPERVISOR)).raise_for_status()
    client.post(f"{path}/start", headers=credentials.staff(Role.DISPATCHER)).raise_for_status()
    return made


def test_the_crew_sees_its_orders_steps_with_a_form_for_the_next(
    setting: tuple[TestClient, Credentials], order: dict[str, Any]
) -> None:
    client, credentials = setting
    page = client.get("/crew?lang=en", headers=credentials.staff(Role.CREW))
    assert page.status_code == 200, page.text
    assert f'id="order-{order["id"]}"' in page.text and "check the tag" in page.text
    assert page.text.count('class="confirm-step"') == 1
    assert f'action="/crew/orders/{order["id"]}/steps/1?lang=en"' in page.text


def test_confirming_a_step_records_it_and_returns_to_the_page(
    setting: tuple[TestClient, Credentials], order: dict[str, Any]
) -> None:
    client, credentials = setting
    answer = client.post(
        f"/crew/orders/{order['id']}/steps/1",
        headers=credentials.staff(Role.CREW),
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/crew")
    stored = client.get(f"{ORDERS}/{order['id']}", headers=credentials.staff()).json()
    assert (stored["steps"][0]["state"], stored["steps"][0]["executed_by"]) == ("done", "test-crew")


def test_a_step_out_of_turn_comes_back_with_the_reason(
    setting: tuple[TestClient, Credentials], order: dict[str, Any]
) -> None:
    client, credentials = setting
    answer = client.post(
        f"/crew/orders/{order['id']}/steps/1?lang=en", headers=credentials.staff(Role.CREW)
    )
    assert answer.status_code == 200
    assert 'id="step-refused"' in answer.text and "already done" in answer.text
