"""Per-phone limits: reports that merely name a phone cannot use up the limit of the
customer's own SMS and calls from that phone."""

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outage.app import create_app
from outage.settings import Settings

PersonMaker = Callable[..., Any]


@pytest.fixture
def strict_client(channels_database: str, channels_settings: Settings) -> Iterator[TestClient]:
    """Two reports per phone an hour; no credentials unless a request sends them."""
    strict = channels_settings.model_copy(update={"rate_limit_per_phone": "2/hour"})
    with TestClient(create_app(channels_database, strict)) as client:
        yield client


def _exhaust_named_phone(client: TestClient, phone: str) -> None:
    """Anonymous reports naming `phone` until the API refuses one."""
    codes = [client.post("/api/v1/reports", json={"phone": phone}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_strangers_reports_naming_a_phone_leave_its_own_sms_working(
    strict_client: TestClient, person: PersonMaker, gateway_headers: dict[str, str]
) -> None:
    customer = person()
    _exhaust_named_phone(strict_client, customer.phone)
    body = {"from": customer.phone, "text": "MATDIEN", "message_id": uuid.uuid4().hex}
    answer = strict_client.post("/api/v1/channels/sms", json=body, headers=gateway_headers)
    assert answer.json()["ticket"] is not None


def test_strangers_reports_naming_a_phone_leave_its_own_ivr_report_working(
    strict_client: TestClient, person: PersonMaker, gateway_headers: dict[str, str]
) -> None:
    customer = person()
    _exhaust_named_phone(strict_client, customer.phone)
    body = {"call_id": uuid.uuid4().hex, "caller": customer.phone, "digits": "1"}
    answer = strict_client.post("/api/v1/channels/ivr", json=body, headers=gateway_headers)
    assert answer.json()["ticket"] is not None
