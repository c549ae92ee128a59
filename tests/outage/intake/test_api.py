"""The intake API: POST /api/v1/reports (placing, de-duplicating and keeping every report),
and SCADA events (smart-meter batches: `test_meter_batches`)."""

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grid_topology.model import GridModel
from outage.app import create_app
from outage.db import session_factory, session_scope
from outage.intake.models import Report
from outage.settings import Settings

from .conftest import SampleCustomer

NewCustomer = Callable[..., SampleCustomer]


def _report_count(database_url: str) -> int:
    with session_scope(session_factory(database_url)) as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


def _unaccented(text: str) -> str:
    """Lý Thường Kiệt as typed on a phone without Vietnamese input: Ly Thuong Kiet."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _national(phone: str) -> str:
    """+84912345678 as a customer types it: 0912 345 678."""
    digits = "0" + phone[3:]
    return f"{digits[:4]} {digits[4:7]} {digits[7:]}"


def test_account_places_report_on_premise_and_transformer(
    client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    response = client.post("/api/v1/reports", json={"account": customer.account})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "received"
    assert body["match"]["premise"] == customer.premise
    assert body["match"]["transformer"] == customer.transformer
    assert body["match"]["method"] == "account"
    assert body["match"]["confidence"] == 1.0
    assert body["match"]["feeder"].startswith("MV3.101_Feeder")


def test_phone_in_national_format_finds_the_customer(
    client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    body = client.post("/api/v1/reports", json={"phone": _national(customer.phone)}).json()
    assert body["match"]["method"] == "phone"
    assert body["match"]["premise"] == customer.premise


def test_unaccented_address_finds_the_premise(
    client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    street = customer.address.split(",")[0]
    plain = _unaccented(street)
    body = client.post("/api/v1/reports", json={"address": plain.upper()}).json()
    assert body["match"]["method"] == "address"
    assert body["match"]["premise"] == customer.premise
    assert body["match"]["confidence"] > 0.9


def test_gps_fix_at_a_premise_places_it_on_that_transformer(
    client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    body = client.post("/api/v1/reports", json={"lat": customer.lat, "lon": customer.lon}).json()
    assert body["match"]["method"] == "gps_premise"
    assert body["match"]["transformer"] == customer.transformer
    assert 0 < body["match"]["confidence"] <= 0.9


def test_gps_fix_far_from_premises_falls_back_to_nearest_transformer(
    client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    body = client.post(
        "/api/v1/reports", json={"lat": customer.lat + 0.0025, "lon": customer.lon + 0.004}
    ).json()
    assert body["match"]["method"] in {"gps_transformer", "gps_premise"}
    if body["match"]["method"] == "gps_transformer":
        assert body["match"]["premise"] is None
        assert body["match"]["transformer"] is not None


def test_location_outside_territory_is_refused_and_not_stored(
    client: TestClient, grid_database: str
) -> None:
    before = _report_count(grid_database)
    response = client.post("/api/v1/reports", json={"lat": 10.77, "lon": 106.70})
    assert response.status_code == 422
    assert "outside our service territory" in response.json()["detail"]
    assert _report_count(grid_database) == before


def test_unplaceable_address_is_kept_for_an_agent(client: TestClient) -> None:
    response = client.post(
        "/api/v1/reports", json={"address": "behind the big banyan tree near the market"}
    )
    assert response.status_code == 201
    assert response.json()["status"] == "needs_agent"
    assert response.json()["match"]["method"] == "none"


def test_second_report_from_same_customer_attaches_to_the_first(
    client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    first = client.post("/api/v1/reports", json={"account": customer.account}).json()
    second = client.post("/api/v1/reports", json={"phone": customer.phone}).json()
    assert second["status"] == "duplicate"
    assert second["duplicate_of"] == first["ticket"]
    assert second["ticket"] != first["ticket"]


def test_retry_with_idempotency_key_returns_the_first_answer(
    client: TestClient, new_customer: NewCustomer, grid_database: str
) -> None:
    customer = new_customer()
    headers = {"Idempotency-Key": f"retry-{customer.account}"}
    first = client.post("/api/v1/reports", json={"account": customer.account}, headers=headers)
    stored = _report_count(grid_database)
    again = client.post("/api/v1/reports", json={"account": customer.account}, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert _report_count(grid_database) == stored


def test_idempotency_key_reused_for_another_report_is_refused(
    client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    headers = {"Idempotency-Key": f"reuse-{customer.account}"}
    client.post("/api/v1/reports", json={"account": customer.account}, headers=headers)
    response = client.post(
        "/api/v1/reports", json={"account": customer.account, "description": "x"}, headers=headers
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]


def test_report_without_any_location_clue_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/reports", json={"description": "no power"})
    assert response.status_code == 422
    assert "tell us where" in response.text


def test_invalid_phone_is_refused_with_reason(client: TestClient, grid_database: str) -> None:
    before = _report_count(grid_database)
    response = client.post("/api/v1/reports", json={"phone": "12345"})
    assert response.status_code == 422
    assert "phone" in response.text
    assert _report_count(grid_database) == before


def test_overlong_description_is_refused(client: TestClient, new_customer: NewCustomer) -> None:
    customer = new_customer()
    response = client.post(
        "/api/v1/reports", json={"account": customer.account, "description": "x" * 2001}
    )
    assert response.status_code == 422


def test_unknown_field_is_refused(client: TestClient, new_customer: NewCustomer) -> None:
    customer = new_customer()
    response = client.post("/api/v1/reports", json={"account": customer.account, "admin": True})
    assert response.status_code == 422


def test_oversized_body_is_refused_before_reading(client: TestClient) -> None:
    response = client.post(
        "/api/v1/reports",
        content=b"{" + b" " * (70 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_hazard_report_is_kept_as_hazard(client: TestClient, new_customer: NewCustomer) -> None:
    customer = new_customer()
    ticket = client.post(
        "/api/v1/reports", json={"account": customer.account, "hazard": "wires_down"}
    ).json()["ticket"]
    assert client.get(f"/api/v1/reports/{ticket}").json()["hazard"] == "wires_down"


def test_hazard_report_is_on_its_hazard_incident_when_answered(
    client: TestClient, new_customer: NewCustomer
) -> None:
    """The route opens the hazard incident in its own transaction, not waiting for the
    engine: the report is on it as soon as the receipt is back."""
    customer = new_customer()
    ticket = client.post(
        "/api/v1/reports", json={"account": customer.account, "hazard": "fire"}
    ).json()["ticket"]
    assert client.get(f"/api/v1/reports/{ticket}").json()["incident_id"] is not None


def test_outage_report_waits_for_the_engine(client: TestClient, new_customer: NewCustomer) -> None:
    ticket = client.post("/api/v1/reports", json={"account": new_customer().account}).json()[
        "ticket"
    ]
    assert client.get(f"/api/v1/reports/{ticket}").json()["incident_id"] is None


def test_status_by_ticket_shows_no_personal_data(
    anonymous_client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer(with_email=True)
    ticket = anonymous_client.post(
        "/api/v1/reports",
        json={"account": customer.account, "phone": customer.phone, "email": customer.email},
    ).json()["ticket"]
    response = anonymous_client.get(
        f"/api/v1/reports/{ticket.lower()}", params={"phone_last4": customer.phone[-4:]}
    )
    assert response.status_code == 200
    text = response.text
    assert customer.phone not in text
    assert customer.account not in text
    assert str(customer.email) not in text


def test_unknown_ticket_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/reports/000000-XXXXX").status_code == 404


def test_too_many_reports_from_one_phone_get_429(
    grid_database: str, new_customer: NewCustomer
) -> None:
    settings = Settings(rate_limit_per_phone="2/hour")
    customer = new_customer()
    with TestClient(create_app(grid_database, settings)) as limited:
        for _ in range(2):
            limited.post("/api/v1/reports", json={"phone": customer.phone})
        response = limited.post("/api/v1/reports", json={"phone": customer.phone})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1


def test_unplaced_report_waits_in_the_review_queue(client: TestClient) -> None:
    ticket = client.post(
        "/api/v1/reports", json={"address": "kiosk opposite the pagoda gate, hamlet 4"}
    ).json()["ticket"]
    queue = client.get("/api/v1/reports", params={"limit": 500}).json()
    assert ticket in {q["ticket"] for q in queue}


def test_agent_places_a_queued_report_on_a_premise(
    client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    ticket = client.post(
        "/api/v1/reports", json={"address": "the yellow house behind the school"}
    ).json()["ticket"]
    response = client.post(
        f"/api/v1/reports/{ticket}/placement", json={"premise": customer.premise}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "received"
    assert response.json()["match"]["method"] == "agent"
    assert response.json()["match"]["transformer"] == customer.transformer
    queue = client.get("/api/v1/reports", params={"limit": 500}).json()
    assert ticket not in {q["ticket"] for q in queue}


def test_placing_a_report_twice_is_a_conflict(
    client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    ticket = client.post("/api/v1/reports", json={"account": customer.account}).json()["ticket"]
    response = client.post(
        f"/api/v1/reports/{ticket}/placement", json={"premise": customer.premise}
    )
    assert response.status_code == 409


def test_placing_a_report_nobody_filed_is_refused_naming_the_ticket(
    client: TestClient, new_customer: NewCustomer
) -> None:
    response = client.post(
        "/api/v1/reports/NO-SUCH/placement", json={"premise": new_customer().premise}
    )
    assert response.status_code == 422
    assert "NO-SUCH" in response.json()["detail"]


AN_HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def test_scada_breaker_open_is_stored_once(client: TestClient, sample_grid: GridModel) -> None:
    event = {
        "asset_ref": sample_grid.feeders[0].head,
        "state": "open",
        "occurred_at": AN_HOUR_AGO,
    }
    try:
        assert client.post("/api/v1/scada/events", json=event).json() == {"accepted": True}
        assert client.post("/api/v1/scada/events", json=event).json() == {"accepted": False}
    finally:  # the shared network as normal again, for the tests that trace it
        closed = {**event, "state": "closed", "occurred_at": datetime.now(UTC).isoformat()}
        assert client.post("/api/v1/scada/events", json=closed).json() == {"accepted": True}


def test_a_fault_indication_is_stored_once(client: TestClient, sample_grid: GridModel) -> None:
    event = {"asset_ref": "MV3.101 Line 6", "fault_passed": True, "occurred_at": AN_HOUR_AGO}
    assert client.post("/api/v1/scada/events", json=event).json() == {"accepted": True}
    assert client.post("/api/v1/scada/events", json=event).json() == {"accepted": False}


def test_a_scada_event_without_state_or_indication_is_refused(client: TestClient) -> None:
    event = {"asset_ref": "MV3.101 Line 6", "occurred_at": AN_HOUR_AGO}
    assert client.post("/api/v1/scada/events", json=event).status_code == 422


def test_a_fault_indication_on_an_unknown_device_is_refused(client: TestClient) -> None:
    event = {"asset_ref": "nope", "fault_passed": False, "occurred_at": AN_HOUR_AGO}
    assert client.post("/api/v1/scada/events", json=event).status_code == 422


def test_scada_event_for_unknown_device_is_refused(client: TestClient) -> None:
    event = {"asset_ref": "nope", "state": "open", "occurred_at": AN_HOUR_AGO}
    response = client.post("/api/v1/scada/events", json=event)
    assert response.status_code == 422
    assert "nope" in response.json()["detail"]


@pytest.mark.parametrize(
    "when", [timedelta(minutes=10), -timedelta(days=30)], ids=["future", "beyond the horizon"]
)
def test_scada_event_dated_out_of_bounds_is_refused(
    client: TestClient, sample_grid: GridModel, when: timedelta
) -> None:
    event = {
        "asset_ref": sample_grid.feeders[0].head,
        "state": "closed",
        "occurred_at": (datetime.now(UTC) + when).isoformat(),
    }
    response = client.post("/api/v1/scada/events", json=event)
    assert response.status_code == 422
    assert "occurred_at" in response.json()["detail"]
