"""What a report's receipt tells its caller: an anonymous one learns nothing about the
customer a phone or account belongs to; staff and integration keys see the placement."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from outage.app import create_app
from outage.auth.enums import Scope
from tests.conftest import Credentials

from .conftest import SampleCustomer

NewCustomer = Callable[..., SampleCustomer]


def test_anonymous_receipt_names_no_premise_transformer_or_feeder(
    anonymous_client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    response = anonymous_client.post("/api/v1/reports", json={"phone": customer.phone})
    assert response.status_code == 201
    match = response.json()["match"]
    assert (match["premise"], match["transformer"], match["feeder"]) == (None, None, None)
    assert match["method"] == "phone"


def test_anonymous_duplicate_receipt_does_not_tell_the_earlier_ticket(
    client: TestClient, anonymous_client: TestClient, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    first = client.post("/api/v1/reports", json={"account": customer.account}).json()
    second = anonymous_client.post("/api/v1/reports", json={"phone": customer.phone}).json()
    assert second["status"] == "duplicate"
    assert second["duplicate_of"] is None
    assert first["ticket"] not in str(second)


def test_integration_key_receipt_shows_where_the_report_was_placed(
    grid_database: str, credentials: Credentials, new_customer: NewCustomer
) -> None:
    customer = new_customer()
    app = create_app(grid_database)
    with TestClient(app, headers=credentials.key(Scope.CHANNELS)) as integration:
        response = integration.post("/api/v1/reports", json={"account": customer.account})
    assert response.json()["match"]["premise"] == customer.premise
