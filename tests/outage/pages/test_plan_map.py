"""Restoration plans drawn for the map, on the restoration tests' fault: the first
feeder's breaker tripped on a line in its middle."""

from typing import Any

from fastapi.testclient import TestClient

from outage.auth.enums import Role
from tests.conftest import Credentials
from tests.outage.restoration.conftest import (  # noqa: F401 (the fixtures)
    Outage,
    client,
    credentials,
    line_fault,
    module_database,
    restoration_database,
)


def _drawn(http: TestClient, staff: Credentials, incident_id: int) -> dict[str, Any]:
    answer = http.get(
        f"/api/v1/map/incidents/{incident_id}/restoration-plans.geojson",
        headers=staff.staff(Role.SUPERVISOR),
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_best_plan_colours_each_part_it_brings_back_by_its_new_feeder(
    client: TestClient,  # noqa: F811
    credentials: Credentials,  # noqa: F811
    line_fault: Outage,  # noqa: F811
) -> None:
    drawn = _drawn(client, credentials, line_fault.incident_id)
    first = [f["properties"] for f in drawn["features"] if f["properties"]["rank"] == 1]
    restored = {p["head"]: p["index"] for p in first if p["kind"] == "plan_restored"}
    assert restored == {"MV3.101 Switch 12": 0, "MV3.101 Switch 42": 1}


def test_each_step_of_each_plan_is_a_point_with_its_action(
    client: TestClient,  # noqa: F811
    credentials: Credentials,  # noqa: F811
    line_fault: Outage,  # noqa: F811
) -> None:
    drawn = _drawn(client, credentials, line_fault.incident_id)
    steps = [
        (p["rank"], p["position"], p["asset_ref"], p["action"])
        for f in drawn["features"]
        if (p := f["properties"])["kind"] == "plan_step"
    ]
    planned = [
        (plan["rank"], s["position"], s["asset_ref"], s["action"])
        for plan in drawn["plans"]["plans"]
        for s in plan["steps"]
    ]
    assert steps == planned


def test_every_plan_shows_what_it_leaves_without_supply(
    client: TestClient,  # noqa: F811
    credentials: Credentials,  # noqa: F811
    line_fault: Outage,  # noqa: F811
) -> None:
    drawn = _drawn(client, credentials, line_fault.incident_id)
    dead = [f for f in drawn["features"] if f["properties"]["kind"] == "plan_dead"]
    assert len(dead) == len(drawn["plans"]["plans"]) > 0
