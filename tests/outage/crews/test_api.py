"""Crews and the dispatch plan over HTTP: what is stored, who may, and the refusals."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import NOW, Places, incident_row

CREW: dict[str, Any] = {
    "name": "Line crew 1",
    "skills": ["overhead_line", "vegetation"],
    "depot": {"lat": 21.03, "lon": 105.85},
    "vehicle": "29C-123.45",
    "shifts": [
        {
            "starts_at": (NOW - timedelta(hours=1)).isoformat(),
            "ends_at": (NOW + timedelta(hours=8)).isoformat(),
        }
    ],
}


def test_a_dispatcher_adds_a_crew_and_reads_it_back(client: TestClient) -> None:
    created = client.post("/api/v1/crews", json=CREW)
    assert created.status_code == 201, created.text
    crew = created.json()
    assert created.headers["location"] == f"/api/v1/crews/{crew['id']}"
    assert crew["skills"] == ["overhead_line", "vegetation"]
    assert crew["on_shift"] is True and crew["status"] == "available"
    assert crew["position"] is None and crew["help"] is None
    assert client.get(f"/api/v1/crews/{crew['id']}").json() == crew
    assert [c["name"] for c in client.get("/api/v1/crews").json()] == ["Line crew 1"]


def test_a_crew_name_is_taken_once(client: TestClient) -> None:
    assert client.post("/api/v1/crews", json=CREW).status_code == 201
    again = client.post("/api/v1/crews", json=CREW)
    assert again.status_code == 409
    assert "exists already" in again.json()["detail"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"skills": ["juggling"]}, "skills"),
        ({"skills": ["underground", "underground"]}, "each skill once"),
        ({"depot": {"lat": 91, "lon": 105}}, "lat"),
        ({"name": ""}, "name"),
        (
            {"shifts": [{"starts_at": "2026-01-01T10:00:00Z", "ends_at": "2026-01-01T09:00:00Z"}]},
            "end after it starts",
        ),
        (
            {
                "shifts": [
                    {"starts_at": "2026-01-01T08:00:00Z", "ends_at": "2026-01-01T16:00:00Z"},
                    {"starts_at": "2026-01-01T15:00:00Z", "ends_at": "2026-01-01T20:00:00Z"},
                ]
            },
            "overlap",
        ),
        (
            {"shifts": [{"starts_at": "2026-01-01T08:00:00", "ends_at": "2026-01-01T16:00:00"}]},
            "timezone",
        ),
    ],
)
def test_a_bad_crew_is_refused_with_the_reason(
    client: TestClient, change: dict[str, Any], words: str
) -> None:
    answer = client.post("/api/v1/crews", json={**CREW, **change})
    assert answer.status_code == 422
    assert words in answer.text
    assert client.get("/api/v1/crews").json() == []


def test_a_dispatcher_changes_a_crew(client: TestClient) -> None:
    crew = client.post("/api/v1/crews", json=CREW).json()
    changed = client.patch(
        f"/api/v1/crews/{crew['id']}", json={"status": "off_shift", "skills": ["substation"]}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["status"], changed.json()["skills"]) == ("off_shift", ["substation"])
    assert changed.json()["on_shift"] is False
    assert client.patch("/api/v1/crews/999999", json={"status": "available"}).status_code == 404


def test_a_crew_member_reports_their_crews_position(
    client: TestClient, crew_member: Callable[[int], dict[str, str]]
) -> None:
    crew = client.post("/api/v1/crews", json=CREW).json()
    member = crew_member(crew["id"])
    sent = {"lat": 21.0301, "lon": 105.8502, "accuracy": 12, "status": "en_route"}
    answer = client.post(f"/api/v1/crews/{crew['id']}/position", json=sent, headers=member)
    assert answer.status_code == 200, answer.text
    assert answer.json()["latest"] is True
    seen = client.get(f"/api/v1/crews/{crew['id']}").json()
    assert seen["status"] == "en_route"
    assert (seen["position"]["lat"], seen["position"]["lon"]) == (21.0301, 105.8502)
    assert seen["members"][0]["username"].startswith("crew-")


def test_a_crew_member_of_another_crew_is_refused(
    client: TestClient, crew_member: Callable[[int], dict[str, str]]
) -> None:
    ours = client.post("/api/v1/crews", json=CREW).json()
    theirs = client.post("/api/v1/crews", json={**CREW, "name": "Cable crew"}).json()
    member = crew_member(ours["id"])
    answer = client.post(
        f"/api/v1/crews/{theirs['id']}/position", json={"lat": 21, "lon": 105}, headers=member
    )
    assert answer.status_code == 403
    assert client.get(f"/api/v1/crews/{theirs['id']}").json()["position"] is None
    help_call = client.post(f"/api/v1/crews/{theirs['id']}/help", json={}, headers=member)
    assert help_call.status_code == 403


def test_an_older_position_does_not_replace_a_newer_one(client: TestClient) -> None:
    crew = client.post("/api/v1/crews", json=CREW).json()
    url = f"/api/v1/crews/{crew['id']}/position"
    newer = {"lat": 21.04, "lon": 105.86, "recorded_at": NOW.isoformat()}
    older = {"lat": 21.01, "lon": 105.81, "recorded_at": (NOW - timedelta(minutes=5)).isoformat()}
    assert client.post(url, json=newer).json()["latest"] is True
    assert client.post(url, json=older).json()["latest"] is False
    assert client.get(f"/api/v1/crews/{crew['id']}").json()["position"]["lat"] == 21.04


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"lat": 21, "lon": 105, "recorded_at": "2099-01-01T00:00:00Z"}, "in the future"),
        ({"lat": 21, "lon": 105, "recorded_at": "2020-01-01T00:00:00Z"}, "more than a day old"),
        ({"lat": 21, "lon": 200}, "lon"),
        ({"lat": 21, "lon": 105, "accuracy": -1}, "accuracy"),
        ({"lat": 21, "lon": 105, "status": "napping"}, "status"),
    ],
)
def test_a_bad_position_is_refused_with_the_reason(
    client: TestClient, body: dict[str, Any], words: str
) -> None:
    crew = client.post("/api/v1/crews", json=CREW).json()
    answer = client.post(f"/api/v1/crews/{crew['id']}/position", json=body)
    assert answer.status_code == 422
    assert words in answer.text
    assert client.get(f"/api/v1/crews/{crew['id']}").json()["position"] is None


def test_a_position_for_no_crew_is_404(client: TestClient) -> None:
    assert (
        client.post("/api/v1/crews/999999/position", json={"lat": 1, "lon": 1}).status_code == 404
    )


def test_a_crew_asks_for_help_and_the_dispatcher_answers(
    client: TestClient,
    crew_member: Callable[[int], dict[str, str]],
    new_incident: Callable[..., int],
    places: Places,
) -> None:
    crew = client.post("/api/v1/crews", json=CREW).json()
    incident = new_incident(places.fuses[0])
    call = {"incident_id": incident, "note": "need a bucket truck"}
    asked = client.post(
        f"/api/v1/crews/{crew['id']}/help", json=call, headers=crew_member(crew["id"])
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["help"]["note"] == "need a bucket truck"
    cleared = client.delete(f"/api/v1/crews/{crew['id']}/help")
    assert cleared.status_code == 200 and cleared.json()["help"] is None


def test_the_plan_is_made_and_read_over_http(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    assert client.get("/api/v1/dispatch/plan").status_code == 404
    here = places.location[places.fuses[0]]
    crew = client.post(
        "/api/v1/crews", json={**CREW, "depot": {"lon": here[0], "lat": here[1]}}
    ).json()
    incident = new_incident(places.fuses[0], customers=25)
    made = client.post("/api/v1/dispatch/plan", json={"time_limit_s": 1})
    assert made.status_code == 200, made.text
    plan = made.json()
    assert client.get("/api/v1/dispatch/plan").json() == plan
    [route] = plan["crews"]
    assert route["crew_id"] == crew["id"] and route["crew_name"] == "Line crew 1"
    [job] = route["jobs"]
    assert job["incident_id"] == incident
    assert job["device"]["asset_ref"] == places.fuses[0]
    assert job["status"] == "dispatched" and job["sequence"] == 1
    assert job["planned_arrival"] is not None and job["etr_source"] == "predicted"
    assert plan["customer_minutes"] > 0 and plan["greedy_customer_minutes"] > 0


def test_pins_are_set_in_the_plan_body_and_removed(
    client: TestClient, new_incident: Callable[..., int], places: Places, crews_database: str
) -> None:
    here = places.location[places.fuses[0]]
    client.post("/api/v1/crews", json={**CREW, "depot": {"lon": here[0], "lat": here[1]}})
    far = client.post(
        "/api/v1/crews",
        json={**CREW, "name": "far away", "depot": {"lon": here[0], "lat": here[1] + 0.1}},
    ).json()
    incident = new_incident(places.fuses[0])
    body = {"time_limit_s": 1, "pins": [{"incident_id": incident, "crew_id": far["id"]}]}
    plan = client.post("/api/v1/dispatch/plan", json=body).json()
    assert [p["incident_id"] for p in plan["pins"]] == [incident]
    assert incident_row(crews_database, incident).crew_id == far["id"]
    assert client.delete(f"/api/v1/dispatch/pins/{incident}").status_code == 204
    assert client.delete(f"/api/v1/dispatch/pins/{incident}").status_code == 404


def test_a_pin_must_name_an_active_incident_and_a_crew(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    crew = client.post("/api/v1/crews", json=CREW).json()
    incident = new_incident(places.fuses[0])
    assert (
        client.post("/api/v1/dispatch/pins", json={"incident_id": incident, "crew_id": 999999})
    ).status_code == 404
    assert (
        client.post("/api/v1/dispatch/pins", json={"incident_id": 999999, "crew_id": crew["id"]})
    ).status_code == 404
    client.patch(f"/api/v1/incidents/{incident}", json={"action": "restored"})
    gone = client.post(
        "/api/v1/dispatch/pins", json={"incident_id": incident, "crew_id": crew["id"]}
    )
    assert gone.status_code == 409
    pinned = client.post(
        "/api/v1/dispatch/pins",
        json={"incident_id": new_incident(places.fuses[1]), "crew_id": crew["id"], "order": 1},
    )
    assert pinned.status_code == 201 and pinned.json()["order"] == 1
    twice = {"pins": [{"incident_id": 1, "crew_id": 1}, {"incident_id": 1, "crew_id": 2}]}
    assert client.post("/api/v1/dispatch/plan", json=twice).status_code == 422


def test_a_crew_member_reads_the_plan_but_does_not_make_it(
    client: TestClient, crews_app: Any, crew_member: Callable[[int], dict[str, str]]
) -> None:
    ours = client.post("/api/v1/crews", json=CREW).json()
    crew = TestClient(crews_app, headers=crew_member(ours["id"]))
    assert crew.post("/api/v1/dispatch/plan", json={}).status_code == 403
    assert crew.get("/api/v1/dispatch/plan").status_code in (200, 404)


# --- crews from elsewhere ---------------------------------------------------------------

AID: dict[str, Any] = {
    **CREW,
    "origin": "mutual_aid",
    "organisation": "PC Hải Phòng",
    "arrives_at": (NOW + timedelta(hours=3)).isoformat(),
}


def test_a_crew_from_elsewhere_is_added_and_read_back(client: TestClient) -> None:
    created = client.post("/api/v1/crews", json=AID)
    assert created.status_code == 201, created.text
    crew = created.json()
    assert (crew["origin"], crew["organisation"]) == ("mutual_aid", "PC Hải Phòng")
    assert crew["arrives_at"] == AID["arrives_at"].replace("+00:00", "Z")
    assert crew["released_at"] is None
    assert client.get(f"/api/v1/crews/{crew['id']}").json() == crew


def test_a_crew_not_yet_arrived_is_not_on_shift(client: TestClient) -> None:
    crew = client.post("/api/v1/crews", json=AID).json()
    assert crew["on_shift"] is False
    arrived = client.patch(
        f"/api/v1/crews/{crew['id']}", json={"arrives_at": (NOW - timedelta(minutes=5)).isoformat()}
    )
    assert arrived.json()["on_shift"] is True


def test_a_released_crew_is_not_on_shift(client: TestClient) -> None:
    crew = client.post("/api/v1/crews", json={**CREW, "origin": "contractor"}).json()
    released = client.patch(
        f"/api/v1/crews/{crew['id']}",
        json={"released_at": (NOW - timedelta(minutes=1)).isoformat()},
    )
    assert released.status_code == 200, released.text
    assert released.json()["released_at"] is not None
    assert released.json()["on_shift"] is False


def test_a_crew_is_our_own_unless_told(client: TestClient) -> None:
    crew = client.post("/api/v1/crews", json=CREW).json()
    assert (crew["origin"], crew["organisation"], crew["arrives_at"]) == ("own", None, None)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"origin": "borrowed"}, "origin"),
        ({"organisation": ""}, "organisation"),
        ({"arrives_at": "2026-12-07T08:00:00"}, "timezone"),
    ],
)
def test_a_bad_origin_or_arrival_is_refused_with_the_reason(
    client: TestClient, change: dict[str, Any], words: str
) -> None:
    answer = client.post("/api/v1/crews", json={**AID, **change})
    assert answer.status_code == 422
    assert words in answer.text
    assert client.get("/api/v1/crews").json() == []


def test_a_release_before_the_arrival_is_refused(client: TestClient) -> None:
    crew = client.post("/api/v1/crews", json=AID).json()
    answer = client.patch(
        f"/api/v1/crews/{crew['id']}", json={"released_at": (NOW + timedelta(hours=1)).isoformat()}
    )
    assert answer.status_code == 422
    assert "released after it arrives" in answer.text
    assert client.get(f"/api/v1/crews/{crew['id']}").json()["released_at"] is None


# --- damage assessments -----------------------------------------------------------------


def _assessment(**fields: Any) -> dict[str, Any]:
    return {
        "assessed_at": (NOW - timedelta(minutes=10)).isoformat(),
        "poles_down": 1,
        "spans_down": 2,
        "access": "blocked",
        "crew_type_needed": "overhead_line",
        "hours_needed": 4.5,
        **fields,
    }


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def test_damage_is_reported_once_and_listed_on_its_incident(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    incident = new_incident(places.fuses[0])
    key = _key()
    first = client.post(
        "/api/v1/damage-assessments", json=_assessment(incident_id=incident), headers=key
    )
    assert first.status_code == 201, first.text
    again = client.post(
        "/api/v1/damage-assessments", json=_assessment(incident_id=incident), headers=key
    )
    assert again.status_code == 200
    assert again.json() == first.json()
    listed = client.get(f"/api/v1/incidents/{incident}/damage-assessments")
    assert listed.json() == [first.json()]
    assert first.json()["access"] == "blocked" and first.json()["reported_by"]


def test_a_crew_member_reports_damage_as_their_crew(
    client: TestClient,
    crew_member: Callable[[int], dict[str, str]],
    new_incident: Callable[..., int],
    places: Places,
) -> None:
    crew = client.post("/api/v1/crews", json=CREW).json()
    member = crew_member(crew["id"])
    incident = new_incident(places.fuses[0])
    answer = client.post(
        "/api/v1/damage-assessments",
        json=_assessment(incident_id=incident),
        headers={**member, **_key()},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["crew_id"] == crew["id"]


def test_a_crew_member_cannot_report_as_another_crew(
    client: TestClient,
    crew_member: Callable[[int], dict[str, str]],
    new_incident: Callable[..., int],
    places: Places,
) -> None:
    ours = client.post("/api/v1/crews", json=CREW).json()
    theirs = client.post("/api/v1/crews", json={**CREW, "name": "Cable crew"}).json()
    incident = new_incident(places.fuses[0])
    answer = client.post(
        "/api/v1/damage-assessments",
        json=_assessment(incident_id=incident, crew_id=theirs["id"]),
        headers={**crew_member(ours["id"]), **_key()},
    )
    assert answer.status_code == 403
    assert client.get(f"/api/v1/incidents/{incident}/damage-assessments").json() == []


@pytest.mark.parametrize(
    ("change", "headers", "words"),
    [
        ({}, {}, "Idempotency-Key"),
        ({"assessed_at": "2099-01-01T00:00:00Z"}, None, "in the future"),
        ({"incident_id": None}, None, "needs a location"),
        ({"incident_id": 999999}, None, "no incident 999999"),
        ({"crew_id": 999999}, None, "no crew 999999"),
        ({"hours_needed": 0}, None, "hours_needed"),
        ({"trees_on_line": -1}, None, "trees_on_line"),
        ({"crew_type_needed": "juggling"}, None, "crew_type_needed"),
    ],
)
def test_bad_damage_is_refused_with_the_reason(
    client: TestClient,
    new_incident: Callable[..., int],
    places: Places,
    change: dict[str, Any],
    headers: dict[str, str] | None,
    words: str,
) -> None:
    incident = new_incident(places.fuses[0])
    answer = client.post(
        "/api/v1/damage-assessments",
        json=_assessment(**{"incident_id": incident, **change}),
        headers=_key() if headers is None else headers,
    )
    assert answer.status_code == 422
    assert words in answer.text
    assert client.get(f"/api/v1/incidents/{incident}/damage-assessments").json() == []


def test_the_damage_of_no_incident_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/incidents/999999/damage-assessments").status_code == 404
