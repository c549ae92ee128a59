"""Incidents over HTTP: the list, one incident, the map layer and dispatcher/crew actions."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from outage.auth.enums import Role, Scope
from outage.grid.models import Device
from outage.incidents.changes import open_incident, set_etr
from outage.incidents.evidence import EvidenceRef
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.intake.enums import PingReason, PingState
from outage.intake.models import MeterPing
from tests.conftest import Credentials, make_crew

from .conftest import Meter, Places, add_ping

Committed = Callable[[Callable[[Session], Any]], Any]
OpenOn = Callable[..., int]
S = PingState


@pytest.fixture
def new_incident(committed: Committed, open_on: OpenOn, places: Places) -> Callable[..., int]:
    """A stored predicted outage on a fuse of the sample grid."""

    def make(asset_ref: str | None = None, **overrides: Any) -> int:
        incident_id: int = committed(
            lambda s: open_on(s, asset_ref or places.fuses[0], **overrides)
        )
        return incident_id

    return make


@pytest.fixture
def crew(committed: Committed) -> int:
    """A crew to assign incidents to."""
    crew_id: int = committed(make_crew)
    return crew_id


def _patch(
    client: TestClient, incident_id: int, headers: dict[str, str] | None = None, **body: Any
) -> Any:
    return client.patch(f"/api/v1/incidents/{incident_id}", json=body, headers=headers or {})


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [incident["id"] for incident in response.json()]


def test_confirm_answers_the_confirmed_incident(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    response = _patch(client, incident_id, action="confirm", reason="SCADA shows it open")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["confidence"], body["version"]) == ("confirmed", 1.0, 2)


def test_crew_actions_walk_the_lifecycle(
    client: TestClient, new_incident: Callable[..., int], crew: int
) -> None:
    incident_id = new_incident()
    statuses = [
        _patch(client, incident_id, **body).json()["status"]
        for body in (
            {"action": "assign", "crew_id": crew},
            {"action": "en_route"},
            {"action": "on_site"},
            {"action": "restored"},
        )
    ]
    assert statuses == ["dispatched", "en_route", "on_site", "restored"]


def test_action_is_audited_with_the_signed_in_user(
    client: TestClient, credentials: Credentials, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    dispatcher = credentials.staff(Role.DISPATCHER)
    _patch(client, incident_id, dispatcher, action="confirm", reason="called the crew")
    event = client.get(f"/api/v1/incidents/{incident_id}").json()["events"][-1]
    assert (event["actor"], event["action"], event["reason"]) == (
        "test-dispatcher",
        "confirmed",
        "called the crew",
    )
    assert (event["from_status"], event["to_status"]) == ("predicted", "confirmed")


def test_an_x_actor_header_names_nobody(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    _patch(client, incident_id, {"X-Actor": "someone-else"}, action="confirm")
    event = client.get(f"/api/v1/incidents/{incident_id}").json()["events"][-1]
    assert event["actor"] == "test-admin"


def test_invalid_transition_is_409_with_the_reason(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    _patch(client, incident_id, action="cancel", reason="noise")
    response = _patch(client, incident_id, action="confirm")
    assert response.status_code == 409
    assert "cancelled and cannot become confirmed" in response.json()["detail"]


def test_stale_version_is_409(
    client: TestClient, new_incident: Callable[..., int], crew: int
) -> None:
    incident_id = new_incident()
    _patch(client, incident_id, action="confirm", expected_version=1)
    response = _patch(client, incident_id, action="assign", crew_id=crew, expected_version=1)
    assert response.status_code == 409
    assert "version 2, not 1" in response.json()["detail"]


def test_refused_action_changes_nothing(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    _patch(client, incident_id, action="en_route")
    body = client.get(f"/api/v1/incidents/{incident_id}").json()
    assert (body["status"], body["version"], len(body["events"])) == ("predicted", 1, 1)


def test_en_route_without_a_crew_is_409(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    response = _patch(client, new_incident(), action="en_route")
    assert response.status_code == 409
    assert "no crew" in response.json()["detail"]


def test_action_on_unknown_incident_is_404(client: TestClient) -> None:
    response = _patch(client, 2_000_000_000, action="confirm")
    assert response.status_code == 404
    assert "2000000000" in response.json()["detail"]


def test_assign_without_crew_is_422(client: TestClient, new_incident: Callable[..., int]) -> None:
    response = _patch(client, new_incident(), action="assign")
    assert response.status_code == 422
    assert "assign needs crew_id" in response.text


def test_assigning_an_unknown_crew_is_422_and_changes_nothing(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    response = _patch(client, incident_id, action="assign", crew_id=2_000_000_000)
    assert response.status_code == 422
    assert response.json()["detail"] == "no crew 2000000000"
    body = client.get(f"/api/v1/incidents/{incident_id}").json()
    assert (body["status"], body["crew_id"], body["version"], len(body["events"])) == (
        "predicted",
        None,
        1,
        1,
    )


def test_unknown_action_is_422(client: TestClient, new_incident: Callable[..., int]) -> None:
    assert _patch(client, new_incident(), action="teleport").status_code == 422


def test_cancel_needs_a_reason(client: TestClient, new_incident: Callable[..., int]) -> None:
    response = _patch(client, new_incident(), action="cancel")
    assert response.status_code == 422
    assert "cancel needs reason" in response.text


def test_partial_restore_counts_customers_back(
    client: TestClient, new_incident: Callable[..., int], crew: int
) -> None:
    incident_id = new_incident(customers_affected=20)
    _patch(client, incident_id, action="assign", crew_id=crew)
    _patch(client, incident_id, action="on_site")
    response = _patch(client, incident_id, action="partial_restore", restored_customers=8)
    body = response.json()
    assert (body["status"], body["customers_restored"]) == ("partially_restored", 8)


def test_partial_restore_by_device_counts_its_customers(
    client: TestClient, new_incident: Callable[..., int], places: Places, crew: int
) -> None:
    incident_id = new_incident(places.head, customers_affected=places.customers[places.head])
    _patch(client, incident_id, action="assign", crew_id=crew)
    _patch(client, incident_id, action="on_site")
    response = _patch(
        client, incident_id, action="partial_restore", restored_device=places.fuse_below_head
    )
    assert response.status_code == 200, response.text
    assert response.json()["customers_restored"] == places.customers[places.fuse_below_head]


def test_partial_restore_of_everyone_is_409(
    client: TestClient, new_incident: Callable[..., int], crew: int
) -> None:
    incident_id = new_incident(customers_affected=20)
    _patch(client, incident_id, action="assign", crew_id=crew)
    _patch(client, incident_id, action="on_site")
    response = _patch(client, incident_id, action="partial_restore", restored_customers=20)
    assert response.status_code == 409
    assert "use the action restored" in response.json()["detail"]


def test_close_needs_a_cause(client: TestClient, new_incident: Callable[..., int]) -> None:
    incident_id = new_incident()
    _patch(client, incident_id, action="restored")
    response = _patch(client, incident_id, action="close")
    assert response.status_code == 409
    assert "set_cause" in response.json()["detail"]


def test_set_cause_then_close(client: TestClient, new_incident: Callable[..., int]) -> None:
    incident_id = new_incident()
    _patch(client, incident_id, action="restored")
    _patch(client, incident_id, action="set_cause", cause="lightning")
    body = _patch(client, incident_id, action="close").json()
    assert (body["status"], body["cause"]) == ("closed", "lightning")


def test_set_etr_records_whose_estimate_it_is(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    etr = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    body = _patch(
        client, new_incident(), action="set_etr", etr=etr.isoformat(), etr_source="crew"
    ).json()
    assert datetime.fromisoformat(body["etr"]) == etr
    assert body["etr_source"] == "crew"


def test_a_crews_etr_has_no_range(client: TestClient, new_incident: Callable[..., int]) -> None:
    etr = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    body = _patch(
        client, new_incident(), action="set_etr", etr=etr.isoformat(), etr_source="crew"
    ).json()
    assert (body["etr_earliest"], body["etr_latest"]) == (None, None)


def _estimated(committed: Committed, incident_id: int) -> tuple[datetime, datetime, datetime]:
    """An estimate with its range set on the incident: (etr, earliest, latest)."""
    etr = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    earliest, latest = etr - timedelta(minutes=45), etr + timedelta(hours=1)
    committed(lambda s: set_etr(s, incident_id, etr=etr, likely=(earliest, latest)))
    return etr, earliest, latest


def test_an_incident_answers_its_estimates_range(
    client: TestClient, committed: Committed, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    etr, earliest, latest = _estimated(committed, incident_id)
    body = client.get(f"/api/v1/incidents/{incident_id}").json()
    told = (body["etr"], body["etr_earliest"], body["etr_latest"])
    assert tuple(map(datetime.fromisoformat, told)) == (etr, earliest, latest)


def test_the_map_layer_carries_the_estimates_range(
    client: TestClient, committed: Committed, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    _, earliest, latest = _estimated(committed, incident_id)
    properties = _features(client)[incident_id]["properties"]
    told = (properties["etr_earliest"], properties["etr_latest"])
    assert tuple(map(datetime.fromisoformat, told)) == (earliest, latest)


@pytest.mark.parametrize("etr", ["9999-12-31T20:00:00Z", "2200-01-01T00:00:00Z"])
def test_an_etr_beyond_the_horizon_is_422_and_changes_nothing(
    client: TestClient, new_incident: Callable[..., int], etr: str
) -> None:
    incident_id = new_incident()
    before = client.get(f"/api/v1/incidents/{incident_id}").json()
    response = _patch(client, incident_id, action="set_etr", etr=etr, etr_source="crew")
    assert response.status_code == 422
    assert "days ahead" in response.json()["detail"]
    assert client.get(f"/api/v1/incidents/{incident_id}").json() == before


def test_restored_in_the_future_is_422(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = _patch(client, new_incident(), action="restored", at=at)
    assert response.status_code == 422
    assert "future" in response.json()["detail"]


def test_list_active_leaves_out_cancelled(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    active, cancelled = new_incident(), new_incident()
    _patch(client, cancelled, action="cancel", reason="noise")
    ids = _ids(client.get("/api/v1/incidents", params={"status": "active", "limit": 1000}))
    assert active in ids
    assert cancelled not in ids


def test_list_by_one_status(client: TestClient, new_incident: Callable[..., int]) -> None:
    cancelled = new_incident()
    _patch(client, cancelled, action="cancel", reason="noise")
    response = client.get("/api/v1/incidents", params={"status": "cancelled", "limit": 1000})
    assert cancelled in _ids(response)
    assert {i["status"] for i in response.json()} == {"cancelled"}


def test_list_by_feeder(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    feeders = {places.feeder_of[f] for f in places.fuses}
    assert len(feeders) == 2
    one = new_incident(places.fuses[0])
    feeder = places.feeder_of[places.fuses[0]]
    other = next(f for f in places.fuses if places.feeder_of[f] != feeder)
    elsewhere = new_incident(other)
    response = client.get("/api/v1/incidents", params={"feeder": feeder, "limit": 1000})
    assert one in _ids(response)
    assert elsewhere not in _ids(response)


def test_list_pages_with_limit_and_offset(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    new_incident(), new_incident()
    first_two = _ids(client.get("/api/v1/incidents", params={"limit": 2}))
    second = _ids(client.get("/api/v1/incidents", params={"limit": 1, "offset": 1}))
    assert len(first_two) == 2
    assert second == first_two[1:]


def test_list_with_unknown_status_is_422(client: TestClient) -> None:
    response = client.get("/api/v1/incidents", params={"status": "asleep"})
    assert response.status_code == 422
    assert "active" in response.json()["detail"]


def test_incident_has_the_contract_fields(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    body = client.get(f"/api/v1/incidents/{new_incident()}").json()
    contract = {"id", "status", "device", "confidence", "customers_affected", "report_count"}
    assert contract | {"started_at", "etr", "crew_id", "cause"} <= body.keys()
    assert body["device"] == {"asset_ref": places.fuses[0], "kind": "fuse"}


def test_incident_counts_its_reports_and_evidence(
    client: TestClient,
    committed: Committed,
    open_on: OpenOn,
    places: Places,
    add_report: Callable[[Session], int],
    add_meter_event: Callable[[Session], int],
) -> None:
    def opened(session: Session) -> int:
        evidence = [EvidenceRef.report(add_report(session)) for _ in range(2)]
        evidence.append(EvidenceRef.meter_event(add_meter_event(session)))
        return open_on(session, places.fuses[1], evidence=evidence)

    body = client.get(f"/api/v1/incidents/{committed(opened)}").json()
    assert body["report_count"] == 2
    assert body["evidence"] == {"reports": 2, "meter_events": 1, "scada_events": 0}


def test_unknown_incident_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/incidents/2000000000")
    assert response.status_code == 404
    assert "no incident 2000000000" in response.json()["detail"]


def _features(client: TestClient) -> dict[int, Any]:
    response = client.get("/api/v1/incidents.geojson")
    assert response.status_code == 200
    return {f["id"]: f for f in response.json()["features"]}


def test_geojson_is_a_feature_collection(client: TestClient) -> None:
    response = client.get("/api/v1/incidents.geojson")
    assert response.headers["content-type"].startswith("application/geo+json")
    assert response.json()["type"] == "FeatureCollection"


def test_geojson_feature_sits_on_the_device_with_contract_properties(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    incident_id = new_incident()
    feature = _features(client)[incident_id]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["device"] == {"asset_ref": places.fuses[0], "kind": "fuse"}
    assert {"kind", "hazard", "status", "report_count", "etr", "crew_id", "cause"} <= set(
        feature["properties"]
    )


def test_geojson_line_incident_is_a_line(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    incident_id = new_incident(places.line)
    assert _features(client)[incident_id]["geometry"]["type"] == "LineString"


def test_geojson_single_service_sits_on_the_premise(
    client: TestClient, committed: Committed, places: Places
) -> None:
    incident_id = committed(
        lambda s: open_incident(
            s,
            account=places.accounts[9],
            confidence=0.5,
            customers_affected=1,
            started_at=datetime.now(UTC),
            reason="lone call",
        )
    )
    feature = _features(client)[incident_id]
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["device"] is None


def test_geojson_leaves_out_restored_incidents(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    _patch(client, incident_id, action="restored")
    assert incident_id not in _features(client)


def test_crew_finding_moves_and_confirms_the_incident(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    incident_id = new_incident(places.fuses[0])
    response = _patch(client, incident_id, action="confirm", device=places.fuses[1])
    assert response.status_code == 200
    body = response.json()
    assert body["device"]["asset_ref"] == places.fuses[1]
    assert (body["status"], body["confidence"]) == ("confirmed", 1.0)
    trail = client.get(f"/api/v1/incidents/{incident_id}").json()
    assert "moved" in {event["action"] for event in trail["events"]}


def test_a_crews_finding_outside_its_jobs_area_is_409_with_its_code(
    client: TestClient,
    credentials: Credentials,
    new_incident: Callable[..., int],
    places: Places,
) -> None:
    job = places.fuses[0]
    elsewhere = next(f for f in places.fuses if places.feeder_of[f] != places.feeder_of[job])
    incident_id = new_incident(job)
    _patch(client, incident_id, action="assign", crew_id=credentials.crew_id)
    member = credentials.staff(Role.CREW)
    assert _patch(client, incident_id, member, action="on_site").status_code == 200

    response = _patch(client, incident_id, member, action="confirm", device=elsewhere)

    assert response.status_code == 409
    assert response.json()["code"] == "outside_area"
    body = client.get(f"/api/v1/incidents/{incident_id}").json()
    assert (body["device"]["asset_ref"], body["status"]) == (job, "on_site")


def test_a_crews_finding_at_an_unknown_device_is_422_with_its_code(
    client: TestClient, credentials: Credentials, new_incident: Callable[..., int]
) -> None:
    incident_id = new_incident()
    _patch(client, incident_id, action="assign", crew_id=credentials.crew_id)
    member = credentials.staff(Role.CREW)

    response = _patch(client, incident_id, member, action="confirm", device="no such device")

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_device"


def test_device_is_only_for_confirm(client: TestClient, new_incident: Callable[..., int]) -> None:
    response = _patch(client, new_incident(), action="cancel", reason="x", device="anything")
    assert response.status_code == 422


def _free_device(session: Session) -> str:
    """A device no active incident is on."""
    busy = select(Incident.id).where(
        Incident.device_id == Device.id, Incident.status.in_(sorted(ACTIVE))
    )
    return (
        session.scalars(
            select(Device.asset_ref).where(~busy.exists()).order_by(Device.id.desc())
        ).first()
        or ""
    )


def test_create_answers_a_confirmed_incident_at_the_device(
    client: TestClient, committed: Committed
) -> None:
    device: str = committed(_free_device)
    response = client.post("/api/v1/incidents", json={"device": device, "cause": "pole down"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["device"]["asset_ref"], body["cause"]) == (
        "confirmed",
        device,
        "pole down",
    )


def test_create_is_refused_to_a_crew_member(
    client: TestClient, credentials: Credentials, places: Places
) -> None:
    response = client.post(
        "/api/v1/incidents",
        json={"device": places.fuses[-1]},
        headers=credentials.staff(Role.CREW),
    )
    assert response.status_code == 403


def test_create_at_an_unknown_device_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/incidents", json={"device": "no such device"})
    assert response.status_code == 422


def test_move_answers_the_incident_on_its_new_device(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    incident_id = new_incident(places.fuses[0])
    response = _patch(client, incident_id, action="move", device=places.fuses[1], reason="found")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["device"]["asset_ref"], body["customers_affected"]) == (
        places.fuses[1],
        places.customers[places.fuses[1]],
    )


def test_a_stale_move_is_refused_and_changes_nothing(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    incident_id = new_incident(places.fuses[0])
    response = _patch(
        client, incident_id, action="move", device=places.fuses[1], expected_version=9
    )
    assert response.status_code == 409
    detail = client.get(f"/api/v1/incidents/{incident_id}").json()
    assert (detail["device"]["asset_ref"], detail["version"]) == (places.fuses[0], 1)


def test_move_to_an_unknown_device_is_refused(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    response = _patch(client, new_incident(), action="move", device="no such device")
    assert response.status_code == 422


def test_merge_of_an_unknown_incident_is_not_found(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    response = _patch(client, new_incident(), action="merge", merged_id=10**9)
    assert response.status_code == 404


def test_split_without_evidence_is_refused(
    client: TestClient, new_incident: Callable[..., int], places: Places
) -> None:
    response = _patch(client, new_incident(), action="split", device=places.fuses[1])
    assert response.status_code == 422


@pytest.fixture
def pinged(
    committed: Committed, open_on: OpenOn, places: Places, metered: dict[str, list[Meter]]
) -> Iterator[tuple[int, str, str]]:
    """An incident whose meters were asked under two transformers (their asset refs): two
    on and one off under the first, one silent and one pending under the second. Its pings
    are deleted afterwards, so no pending one stays in the shared database."""
    one, two = [t for t, meters in metered.items() if len(meters) >= 3][:2]

    def opened(session: Session) -> int:
        incident_id = open_on(session, places.fuses[4])
        for meter, state in zip(metered[one], (S.ON, S.ON, S.OFF), strict=False):
            add_ping(session, incident_id, meter, state)
        add_ping(session, incident_id, metered[two][0], S.NO_ANSWER)
        add_ping(session, incident_id, metered[two][1], S.PENDING, reason=PingReason.MANUAL)
        return incident_id

    incident_id: int = committed(opened)
    yield incident_id, one, two
    committed(
        lambda session: session.execute(
            delete(MeterPing).where(MeterPing.incident_id == incident_id)
        )
    )


def test_geojson_carries_the_ping_counts_of_a_pinged_incident_only(
    client: TestClient, pinged: tuple[int, str, str], new_incident: Callable[..., int]
) -> None:
    incident_id, _, _ = pinged
    unasked = new_incident()
    found = _features(client)
    assert found[incident_id]["properties"]["pings"] == {
        "on": 2,
        "off": 1,
        "silent": 1,
        "pending": 1,
    }
    assert found[unasked]["properties"]["pings"] is None


def test_incident_detail_breaks_the_pings_down_per_transformer(
    client: TestClient, pinged: tuple[int, str, str]
) -> None:
    incident_id, one, two = pinged
    pings = client.get(f"/api/v1/incidents/{incident_id}").json()["pings"]
    assert (pings["on"], pings["off"], pings["silent"], pings["pending"]) == (2, 1, 1, 1)
    assert pings["reasons"] == ["verify_incident", "manual"]
    by_transformer = {t["transformer"]: t for t in pings["transformers"]}
    assert list(by_transformer) == [one, two]
    assert {k: by_transformer[one][k] for k in ("on", "off", "silent", "pending")} == {
        "on": 2,
        "off": 1,
        "silent": 0,
        "pending": 0,
    }
    assert by_transformer[one]["last_answer_at"] is not None
    assert by_transformer[two]["reasons"] == ["verify_incident", "manual"]


def test_the_ping_breakdown_names_no_meter_or_premise(
    client: TestClient, pinged: tuple[int, str, str]
) -> None:
    incident_id, _, _ = pinged
    pings = client.get(f"/api/v1/incidents/{incident_id}").json()["pings"]
    shown = {"on", "off", "silent", "pending", "last_answer_at", "reasons"}
    assert set(pings) == shown | {"transformers"}
    assert {key for t in pings["transformers"] for key in t} == shown | {"transformer"}


def test_an_incident_nobody_pinged_has_no_pings(
    client: TestClient, new_incident: Callable[..., int]
) -> None:
    assert client.get(f"/api/v1/incidents/{new_incident()}").json()["pings"] is None


def test_an_incidents_pings_are_not_shown_to_anyone_signed_out(
    anonymous_client: TestClient, pinged: tuple[int, str, str]
) -> None:
    incident_id, _, _ = pinged
    assert anonymous_client.get(f"/api/v1/incidents/{incident_id}").status_code == 401
    assert anonymous_client.get("/api/v1/incidents.geojson").status_code == 401


def test_the_head_end_reads_no_incident(
    client: TestClient, credentials: Credentials, pinged: tuple[int, str, str]
) -> None:
    """Its key answers pings; an incident, and what its meters said, is the staff's."""
    incident_id, _, _ = pinged
    response = client.get(f"/api/v1/incidents/{incident_id}", headers=credentials.key(Scope.AMI))
    assert response.status_code == 403
