"""Drafting the return to normal from the abnormal-state view."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outage.auth.enums import Role
from tests.conftest import Credentials

from .conftest import Feeders

RETURN = "/api/v1/switching/orders/return-to-normal"


@pytest.fixture(scope="module", autouse=True)
def switched(client: TestClient, credentials: Credentials, feeders: Feeders) -> None:
    """The section opened and the tie closed by hand: the feeder's end fed from next door."""
    for asset_ref, state in ((feeders.tie, "closed"), (feeders.section, "open")):
        body = {
            "asset_ref": asset_ref,
            "state": state,
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        client.post(
            "/api/v1/grid/operations", json=body, headers=credentials.staff(Role.DISPATCHER)
        ).raise_for_status()


def _steps(order: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["action"], s["asset_ref"]) for s in order["steps"]]


def test_every_device_set_by_hand_returns_to_normal_breaking_before_making(
    client: TestClient, credentials: Credentials, feeders: Feeders
) -> None:
    response = client.post(RETURN, json={}, headers=credentials.staff(Role.DISPATCHER))
    assert response.status_code == 201, response.text
    order = response.json()
    assert _steps(order) == [("open", feeders.tie), ("close", feeders.section)]
    assert order["state"] == "draft" and order["check"]["interrupted"] > 0


def test_with_loops_allowed_it_makes_before_it_breaks(
    client: TestClient, credentials: Credentials, feeders: Feeders
) -> None:
    body = {"asset_refs": [feeders.tie, feeders.section], "allow_loops": True}
    order = client.post(RETURN, json=body, headers=credentials.staff(Role.DISPATCHER)).json()
    assert _steps(order) == [("close", feeders.section), ("open", feeders.tie)]
    assert order["check"]["interrupted"] == 0 and order["check"]["loops"] == [1]


def test_a_device_in_its_normal_state_is_refused(
    client: TestClient, credentials: Credentials, feeders: Feeders
) -> None:
    body = {"asset_refs": [feeders.neighbour_head]}
    response = client.post(RETURN, json=body, headers=credentials.staff(Role.DISPATCHER))
    assert response.status_code == 422 and feeders.neighbour_head in response.json()["detail"]
