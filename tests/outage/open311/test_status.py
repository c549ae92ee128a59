"""An Open311 outage request follows its incident: once the crew restores it, the request
is closed with the restoration's time in its notes, and the SMS status reply and the
reports API say the same, naming nobody."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from outage.auth.enums import Role, Scope
from outage.db import session_factory, session_scope
from outage.grid.models import Device
from outage.incidents.changes import open_incident
from outage.incidents.evidence import EvidenceRef
from outage.intake.closing import close_reports
from outage.intake.inside import close_inside_premise
from outage.intake.models import Report
from outage.settings import Settings
from tests.conftest import Credentials

from .conftest import API_KEY, JURISDICTION, Open311Customer


def _incident_for(database_url: str, ticket: str) -> int:
    """The engine's incident on the report's transformer, the report its evidence."""
    with session_scope(session_factory(database_url)) as session:
        report = session.scalars(select(Report).where(Report.ticket == ticket)).one()
        report.received_at = datetime.now(UTC) - timedelta(hours=1)  # before the restoration
        device = session.scalar(select(Device.asset_ref).where(Device.id == report.transformer_id))
        return open_incident(
            session,
            device_asset_ref=device,
            confidence=0.8,
            customers_affected=1,
            started_at=datetime.now(UTC) - timedelta(hours=1),
            reason="a customer's report",
            evidence=[EvidenceRef.report(report.id)],
        )


def test_a_restored_outage_closes_the_request_and_every_channel_agrees(
    open311_client: TestClient,
    open311_customer: Callable[[], Open311Customer],
    open311_settings: Settings,
    grid_database: str,
    credentials: Credentials,
) -> None:
    customer = open311_customer()
    ticket = _posted(open311_client, customer)
    incident = _incident_for(grid_database, ticket)
    restored_at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    patched = open311_client.patch(
        f"/api/v1/incidents/{incident}",
        json={"action": "restored", "at": restored_at.isoformat(), "reason": "fuse replaced"},
        headers=credentials.staff(Role.DISPATCHER),
    )
    assert patched.status_code == 200, patched.text
    hhmm = restored_at.astimezone(open311_settings.local_timezone).strftime("%H:%M")

    request = open311_client.get(
        f"/open311/v2/requests/{ticket}.json",
        params={"jurisdiction_id": JURISDICTION, "lang": "en"},
    ).json()[0]
    sms = open311_client.post(
        "/api/v1/channels/sms",
        json={"sender": customer.phone, "text": f"STATUS {ticket}"},
        headers=credentials.key(Scope.CHANNELS),
    ).json()
    api = open311_client.get(
        f"/api/v1/reports/{ticket}", headers=credentials.staff(Role.AGENT)
    ).json()

    said = f"Ticket {ticket}: power restored at {hhmm}"  # and the date, just past midnight
    assert request["status"] == "closed" and request["status_notes"].startswith(said)
    assert datetime.fromisoformat(request["updated_datetime"]) == restored_at
    assert ticket in sms["reply"] and hhmm in sms["reply"]  # in the customer's language
    assert (api["status"], api["phase"]) == ("closed", "restored")
    assert datetime.fromisoformat(api["restored_at"]) == restored_at
    _names_nobody([request, sms, api], customer)


def test_a_closed_report_is_a_closed_request_telling_its_incidents_phase_only(
    open311_client: TestClient,
    open311_customer: Callable[[], Open311Customer],
    grid_database: str,
) -> None:
    customer = open311_customer()
    ticket = _posted(open311_client, customer)
    incident = _incident_for(grid_database, ticket)
    with session_scope(session_factory(grid_database)) as session:
        close_reports(session, incident, datetime.now(UTC), accounts=[customer.account])

    request = open311_client.get(
        f"/open311/v2/requests/{ticket}.json",
        params={"jurisdiction_id": JURISDICTION, "lang": "en"},
    ).json()[0]

    assert request["status"] == "closed"
    # the storm line may follow, as other tests leave outages open in this database
    assert request["status_notes"].startswith(
        f"Ticket {ticket}: we know of the outage and are working on it."
    )
    assert request["updated_datetime"] == request["requested_datetime"]


def test_a_report_closed_inside_the_premise_says_so_on_every_channel(
    open311_client: TestClient,
    open311_customer: Callable[[], Open311Customer],
    grid_database: str,
    credentials: Credentials,
) -> None:
    customer = open311_customer()
    ticket = _posted(open311_client, customer)
    with session_scope(session_factory(grid_database)) as session:
        premise_id = session.scalars(select(Report.premise_id).where(Report.ticket == ticket)).one()
        assert premise_id is not None
        close_inside_premise(session, premise_id, datetime.now(UTC))

    request = open311_client.get(
        f"/open311/v2/requests/{ticket}.json",
        params={"jurisdiction_id": JURISDICTION, "lang": "en"},
    ).json()[0]
    sms = open311_client.post(
        "/api/v1/channels/sms",
        json={"sender": customer.phone, "text": f"STATUS {ticket}"},
        headers=credentials.key(Scope.CHANNELS),
    ).json()
    api = open311_client.get(
        f"/api/v1/reports/{ticket}", headers=credentials.staff(Role.AGENT)
    ).json()

    assert request["status"] == "closed" and "main breaker" in request["status_notes"]
    assert ticket in sms["reply"] and "(CB)" in sms["reply"]  # the main breaker, either language
    assert (api["status"], api["phase"]) == ("closed", "inside_premise")
    _names_nobody([request, sms, api], customer)


def test_an_outage_reported_on_the_web_is_followed_by_its_ticket(
    open311_client: TestClient,
    anonymous_client: TestClient,
    open311_customer: Callable[[], Open311Customer],
    grid_database: str,
) -> None:
    customer = open311_customer()
    filed = anonymous_client.post(
        "/api/v1/reports", json={"account": customer.account, "channel": "web"}
    )
    assert filed.status_code in (200, 201), filed.text
    ticket = filed.json()["ticket"]
    _incident_for(grid_database, ticket)

    by_id = open311_client.get(
        f"/open311/v2/requests/{ticket}.json",
        params={"jurisdiction_id": JURISDICTION, "lang": "en"},
    )
    listed = open311_client.get(
        "/open311/v2/requests.json", params={"jurisdiction_id": JURISDICTION}
    ).json()

    assert by_id.status_code == 200, by_id.text
    [request] = by_id.json()
    assert (request["service_request_id"], request["status"]) == (ticket, "open")
    assert request["status_notes"].startswith(f"Ticket {ticket}: we know of the outage")
    assert ticket not in {r["service_request_id"] for r in listed}
    _names_nobody([request], customer)


def test_an_outage_reported_on_another_channel_shows_no_point(
    open311_client: TestClient,
    anonymous_client: TestClient,
    open311_customer: Callable[[], Open311Customer],
) -> None:
    customer = open311_customer()
    filed = anonymous_client.post(
        "/api/v1/reports", json={"account": customer.account, "channel": "web"}
    )
    ticket = filed.json()["ticket"]
    [request] = open311_client.get(
        f"/open311/v2/requests/{ticket}.json", params={"jurisdiction_id": JURISDICTION}
    ).json()
    assert (request["lat"], request["long"]) == (None, None)


def _posted(client: TestClient, customer: Open311Customer) -> str:
    posted = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": API_KEY,
            "service_code": "outage",
            "lat": str(customer.lat),
            "long": str(customer.lon),
            **{"attribute[customer_account]": customer.account},
        },
    )
    assert posted.status_code == 201, posted.text
    ticket: str = posted.json()[0]["service_request_id"]
    return ticket


def _names_nobody(answers: list[Any], customer: Open311Customer) -> None:
    text = repr(answers)
    for personal in (customer.name, customer.phone, customer.address, customer.account):
        assert personal not in text
