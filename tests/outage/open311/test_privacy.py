"""What GET shows anyone: the service and its state, never who asked or where they live."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from .conftest import API_KEY, Open311Customer

SECRET_TEXT = "Chìa khóa dưới chậu hoa"


def test_get_responses_carry_no_personal_data(
    open311_client: TestClient, open311_customer: Callable[[], Open311Customer]
) -> None:
    customer = open311_customer()
    email = f"{customer.account.replace(' ', '.').lower()}@example.org"
    response = open311_client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": API_KEY,
            "service_code": "hazard",
            "lat": f"{customer.lat:.6f}",
            "long": f"{customer.lon:.6f}",
            "address_string": customer.address,
            "phone": customer.phone,
            "email": email,
            "first_name": "Lan",
            "last_name": customer.name,
            "description": SECRET_TEXT,
            "attribute[hazard_type]": "tree_on_line",
            "attribute[customer_account]": customer.account,
        },
    )
    assert response.status_code == 201
    ticket = response.json()[0]["service_request_id"]

    personal = [
        customer.name,
        customer.phone,
        customer.phone.removeprefix("+84"),
        email,
        customer.address,
        customer.address.split(",")[0],
        customer.account,
        customer.premise,
        SECRET_TEXT,
        f"{customer.lat:.4f}",
        f"{customer.lon:.4f}",
    ]
    for path, params in (
        (f"/open311/v2/requests/{ticket}.json", {}),
        (f"/open311/v2/requests/{ticket}.xml", {}),
        ("/open311/v2/requests.json", {"service_request_id": ticket}),
        ("/open311/v2/requests.xml", {"service_code": "hazard"}),
    ):
        body = open311_client.get(path, params=params).text
        assert ticket in body
        for value in personal:
            assert value not in body, f"{value!r} shown by {path}"

    [shown] = open311_client.get(f"/open311/v2/requests/{ticket}.json").json()
    assert shown["description"] == "Tree on a line"
    assert shown["address"] is None
    # The hazard opened its incident at once: the notes tell its progress, nothing personal.
    assert shown["status_notes"].startswith(f"Ticket {ticket}: ")
    # The transformer's location, to 0.001 degree: within a few hundred metres of the premise.
    assert shown["lat"] == round(shown["lat"], 3) and shown["long"] == round(shown["long"], 3)
    assert abs(shown["lat"] - customer.lat) < 0.01 and abs(shown["long"] - customer.lon) < 0.01


def test_get_lists_no_report_made_on_another_channel(
    open311_client: TestClient, client: TestClient, open311_customer: Callable[[], Open311Customer]
) -> None:
    customer = open311_customer()
    ticket = client.post(
        "/api/v1/reports", json={"account": customer.account, "channel": "sms"}
    ).json()["ticket"]
    listed = open311_client.get("/open311/v2/requests.json").json()
    by_id = open311_client.get("/open311/v2/requests.json", params={"service_request_id": ticket})
    assert ticket not in {request["service_request_id"] for request in listed}
    assert by_id.json() == []


def test_get_lists_no_service_request_made_on_another_channel(
    open311_client: TestClient, client: TestClient, open311_customer: Callable[[], Open311Customer]
) -> None:
    customer = open311_customer()
    ticket = client.post(
        "/api/v1/requests",
        json={"type": "meter_check", "account": customer.account, "channel": "web"},
    ).json()["ticket"]
    response = open311_client.get(f"/open311/v2/requests/{ticket}.json")
    assert response.status_code == 404
