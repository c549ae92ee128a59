"""The access matrix, walked: every route x every role, every API-key scope and anonymous.

Each route declares exactly one permission; a request it lets through may still be
refused for its content (404, 409, 422), but never with 401 or 403; one it refuses
answers 401 without credentials (the staff pages: a redirect to the login page; Open311:
its 403) and 403 with credentials that lack the permission.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from outage.app import create_app
from outage.auth import matrix, service
from outage.auth.enums import Role, Scope, SessionKind
from outage.db import session_factory, session_scope
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.enums import Action, IncidentKind
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import Hazard
from outage.web.principal import requirement_of, route_rules, served_routes
from tests.conftest import STAFF_PASSWORD, Credentials, make_crew, username

from .conftest import CSRF_INPUT

DOC = Path(__file__).resolve().parents[3] / "docs" / "access-control.md"


@dataclass(frozen=True)
class Who:
    """One column of the matrix: anonymous, a staff role or an API-key scope."""

    name: str
    role: Role | None = None
    scope: Scope | None = None

    def headers(self, credentials: Credentials) -> dict[str, str]:
        if self.role is not None:
            return credentials.staff(self.role)
        if self.scope is not None:
            return credentials.key(self.scope)
        return {}


EVERYONE = [
    Who("anonymous"),
    *(Who(role.value, role=role) for role in Role),
    *(Who(f"key-{scope.value}", scope=scope) for scope in Scope),
]


@dataclass
class Fixture:
    """What the requests of the walk refer to, made once on the access-control database."""

    database_url: str
    credentials: Credentials
    queued_ticket: str
    phone_ticket: str
    crew_incident: int
    device: str


def _request(method: str, url: str, **kwargs: Any) -> Callable[[TestClient, Fixture, Who], Any]:
    def send(client: TestClient, fx: Fixture, who: Who) -> Any:
        return client.request(
            method,
            url.format(fx=fx),
            headers=who.headers(fx.credentials),
            follow_redirects=False,
            **kwargs,
        )

    return send


def _login_page(client: TestClient, fx: Fixture, who: Who) -> Any:
    form = client.get("/login")
    [login_csrf] = CSRF_INPUT.findall(form.text)
    return client.post(
        "/login",
        data={
            "username": username(Role.ADMIN),
            "password": STAFF_PASSWORD,
            "csrf_token": login_csrf,
        },
        headers=who.headers(fx.credentials),
        follow_redirects=False,
    )


def _revoke_token(client: TestClient, fx: Fixture, who: Who) -> Any:
    """With a token of its own: revoking the shared one would sign the role out."""
    headers = who.headers(fx.credentials)
    if who.role is not None:
        with session_scope(session_factory(fx.database_url)) as session:
            granted = service.open_session(
                session,
                username=username(who.role),
                kind=SessionKind.BEARER,
                now=datetime.now(UTC),
                lifetime=timedelta(hours=1),
            )
        headers = {"Authorization": f"Bearer {granted.token}"}
    return client.delete("/api/v1/auth/token", headers=headers)


SMS = {"from": "+84912000222", "text": "HELP"}
METER = {"events": [{"meter_id": "nope", "event": "last_gasp", "occurred_at": "2026-01-01T00:00Z"}]}
PING_ANSWERS = {
    "answers": [
        {"request_id": "r", "meter_id": "nope", "state": "on", "answered_at": "2026-01-01T00:00Z"}
    ]
}
SCADA = {"asset_ref": "nope", "state": "open", "occurred_at": "2026-01-01T00:00Z"}

REQUESTS: dict[tuple[str, str], Callable[[TestClient, Fixture, Who], Any]] = {
    ("GET", "/health"): _request("GET", "/health"),
    ("GET", "/report"): _request("GET", "/report"),
    ("POST", "/report"): _request(
        "POST", "/report", data={"address": "12 Lý Thường Kiệt", "token": str(uuid.uuid4())}
    ),
    ("GET", "/status"): _request("GET", "/status"),
    ("GET", "/status/{ticket}"): _request("GET", "/status/{fx.phone_ticket}"),
    ("POST", "/status/{ticket}"): _request(
        "POST", "/status/{fx.phone_ticket}", data={"phone_last4": "5678"}
    ),
    ("POST", "/status/{ticket}/visit"): _request(
        "POST", "/status/{fx.phone_ticket}/visit", data={"phone_last4": "5678"}
    ),
    ("GET", "/login"): _request("GET", "/login"),
    ("POST", "/login"): _login_page,
    ("POST", "/logout"): _request("POST", "/logout"),
    ("POST", "/api/v1/auth/token"): _request(
        "POST",
        "/api/v1/auth/token",
        data={"username": username(Role.AGENT), "password": STAFF_PASSWORD},
    ),
    ("DELETE", "/api/v1/auth/token"): _revoke_token,
    ("GET", "/api/v1/auth/me"): _request("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/reports"): _request(
        "POST", "/api/v1/reports", json={"address": "a kiosk nobody knows, hamlet 9"}
    ),
    ("GET", "/api/v1/reports/{ticket}"): _request(
        "GET", "/api/v1/reports/{fx.phone_ticket}", params={"phone_last4": "5678"}
    ),
    ("GET", "/api/v1/reports"): _request("GET", "/api/v1/reports"),
    ("POST", "/api/v1/reports/{ticket}/photos"): _request(
        "POST", "/api/v1/reports/{fx.queued_ticket}/photos", files={"photo": ("a.txt", b"no")}
    ),
    ("GET", "/api/v1/photos/{photo_id}"): _request("GET", "/api/v1/photos/987654321"),
    ("GET", "/api/v1/photos/{photo_id}/thumbnail"): _request(
        "GET", "/api/v1/photos/987654321/thumbnail"
    ),
    ("GET", "/api/v1/incidents/{incident_id}/photos"): _request(
        "GET", "/api/v1/incidents/{fx.crew_incident}/photos"
    ),
    ("POST", "/api/v1/incidents/{incident_id}/photos"): _request(
        "POST", "/api/v1/incidents/{fx.crew_incident}/photos", files={"photo": ("a.txt", b"no")}
    ),
    ("POST", "/api/v1/reports/{ticket}/placement"): _request(
        "POST", "/api/v1/reports/{fx.queued_ticket}/placement", json={"premise": "nope"}
    ),
    ("GET", "/api/v1/agent/customers"): _request(
        "GET", "/api/v1/agent/customers", params={"q": "0912"}
    ),
    ("GET", "/api/v1/agent/customers/{account}/contacts"): _request(
        "GET", "/api/v1/agent/customers/nobody/contacts"
    ),
    ("POST", "/api/v1/agent/customers/{account}/contacts"): _request(
        "POST", "/api/v1/agent/customers/nobody/contacts", json={"contact": "0912 000 111"}
    ),
    ("DELETE", "/api/v1/agent/contacts/{subscription_id}"): _request(
        "DELETE", "/api/v1/agent/contacts/999999"
    ),
    ("GET", "/agent"): _request("GET", "/agent", params={"q": "0912"}),
    ("POST", "/agent/reports"): _request("POST", "/agent/reports", data={"account": "nope"}),
    ("POST", "/agent/contacts"): _request(
        "POST", "/agent/contacts", data={"account": "nobody", "contact": "0912 000 111"}
    ),
    ("POST", "/agent/contacts/{subscription_id}/stop"): _request(
        "POST", "/agent/contacts/999999/stop"
    ),
    ("GET", "/agent/queue"): _request("GET", "/agent/queue"),
    ("POST", "/agent/queue/{ticket}/placement"): _request(
        "POST", "/agent/queue/{fx.queued_ticket}/placement", data={"premise": "nope"}
    ),
    ("GET", "/api/v1/incidents"): _request("GET", "/api/v1/incidents"),
    ("GET", "/api/v1/incidents.geojson"): _request("GET", "/api/v1/incidents.geojson"),
    ("POST", "/api/v1/incidents"): _request("POST", "/api/v1/incidents", json={"device": "nope"}),
    ("GET", "/api/v1/incidents/{incident_id}"): _request(
        "GET", "/api/v1/incidents/{fx.crew_incident}"
    ),
    ("PATCH", "/api/v1/incidents/{incident_id}"): _request(
        "PATCH",
        "/api/v1/incidents/{fx.crew_incident}",
        json={"action": "set_cause", "cause": "tree on the line"},
    ),
    ("GET", "/api/v1/grid/devices"): _request("GET", "/api/v1/grid/devices"),
    ("GET", "/api/v1/grid/devices/{asset_ref:path}"): _request(
        "GET", "/api/v1/grid/devices/{fx.device}"
    ),
    ("GET", "/api/v1/grid/trace/{asset_ref:path}"): _request(
        "GET", "/api/v1/grid/trace/{fx.device}"
    ),
    ("GET", "/api/v1/grid/abnormal"): _request("GET", "/api/v1/grid/abnormal"),
    ("GET", "/api/v1/grid/switchable"): _request(
        "GET", "/api/v1/grid/switchable", params={"q": "nope"}
    ),
    ("POST", "/api/v1/grid/operations"): _request(
        "POST",
        "/api/v1/grid/operations",
        json={"asset_ref": "nope", "state": "open", "occurred_at": "2020-01-01T00:00:00Z"},
    ),
    # switching orders (order 999999 does not exist: 404 once let through)
    ("GET", "/api/v1/switching/orders"): _request("GET", "/api/v1/switching/orders"),
    ("POST", "/api/v1/switching/orders"): _request(
        "POST",
        "/api/v1/switching/orders",
        json={"title": "matrix walk", "steps": [{"action": "verify", "asset_ref": "nope"}]},
    ),
    ("POST", "/api/v1/switching/orders/return-to-normal"): _request(
        "POST", "/api/v1/switching/orders/return-to-normal", json={"asset_refs": ["nope"]}
    ),
    ("GET", "/api/v1/switching/orders/{order_id}"): _request(
        "GET", "/api/v1/switching/orders/999999"
    ),
    ("PATCH", "/api/v1/switching/orders/{order_id}"): _request(
        "PATCH", "/api/v1/switching/orders/999999", json={"title": "matrix walk"}
    ),
    ("POST", "/api/v1/switching/orders/{order_id}/check"): _request(
        "POST", "/api/v1/switching/orders/999999/check"
    ),
    ("POST", "/api/v1/switching/orders/{order_id}/approve"): _request(
        "POST", "/api/v1/switching/orders/999999/approve"
    ),
    ("POST", "/api/v1/switching/orders/{order_id}/start"): _request(
        "POST", "/api/v1/switching/orders/999999/start"
    ),
    ("POST", "/api/v1/switching/orders/{order_id}/steps/{position}/execute"): _request(
        "POST", "/api/v1/switching/orders/999999/steps/1/execute"
    ),
    ("POST", "/api/v1/switching/orders/{order_id}/complete"): _request(
        "POST", "/api/v1/switching/orders/999999/complete"
    ),
    ("POST", "/api/v1/switching/orders/{order_id}/abort"): _request(
        "POST", "/api/v1/switching/orders/999999/abort"
    ),
    ("GET", "/api/v1/incidents/{incident_id}/restoration-plans"): _request(
        "GET", "/api/v1/incidents/999999/restoration-plans"
    ),
    ("POST", "/api/v1/incidents/{incident_id}/restoration-plans/{rank}/order"): _request(
        "POST",
        "/api/v1/incidents/999999/restoration-plans/1/order",
        json={"network_version": {"switch": 0, "structure": 0}},
    ),
    ("POST", "/api/v1/channels/sms"): _request("POST", "/api/v1/channels/sms", json=SMS),
    ("POST", "/api/v1/channels/ivr"): _request(
        "POST", "/api/v1/channels/ivr", json={"call_id": "matrix-walk", "digits": "0"}
    ),
    ("POST", "/api/v1/channels/zalo"): _request(
        "POST",
        "/api/v1/channels/zalo",
        json={"app_id": "1", "event_name": "follow", "timestamp": 1, "follower": {"id": "1"}},
    ),
    ("POST", "/api/v1/ami/events"): _request("POST", "/api/v1/ami/events", json=METER),
    ("POST", "/api/v1/ami/pings"): _request(
        "POST", "/api/v1/ami/pings", json={"meter_ids": ["nope"]}
    ),
    ("GET", "/api/v1/ami/pings"): _request("GET", "/api/v1/ami/pings?request_id=nope"),
    ("POST", "/api/v1/ami/pings/answers"): _request(
        "POST", "/api/v1/ami/pings/answers", json=PING_ANSWERS
    ),
    ("POST", "/api/v1/scada/events"): _request("POST", "/api/v1/scada/events", json=SCADA),
    ("GET", "/open311/v2/discovery.{fmt}"): _request("GET", "/open311/v2/discovery.json"),
    ("GET", "/open311/v2/services.{fmt}"): _request("GET", "/open311/v2/services.xml"),
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): _request(
        "GET", "/open311/v2/services/outage.json"
    ),
    ("GET", "/open311/v2/requests.{fmt}"): _request("GET", "/open311/v2/requests.json"),
    ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"): _request(
        "GET", "/open311/v2/requests/{fx.phone_ticket}.json"
    ),
    ("POST", "/open311/v2/requests.{fmt}"): _request(
        "POST",
        "/open311/v2/requests.json",
        data={"service_code": "outage", "address_string": "a lane with no name"},
    ),
    # crews, dispatch and the crew page
    ("GET", "/api/v1/crews"): _request("GET", "/api/v1/crews"),
    ("POST", "/api/v1/crews"): _request(
        "POST",
        "/api/v1/crews",
        json={"name": "matrix walk", "skills": [], "depot": {"lat": 21.0, "lon": 105.8}},
    ),
    ("GET", "/api/v1/crews/{crew_id}"): _request("GET", "/api/v1/crews/{fx.credentials.crew_id}"),
    ("PATCH", "/api/v1/crews/{crew_id}"): _request(
        "PATCH", "/api/v1/crews/{fx.credentials.crew_id}", json={"status": "available"}
    ),
    ("POST", "/api/v1/crews/{crew_id}/position"): _request(
        "POST", "/api/v1/crews/{fx.credentials.crew_id}/position", json={"lat": 21.0, "lon": 105.8}
    ),
    ("POST", "/api/v1/crews/{crew_id}/help"): _request(
        "POST", "/api/v1/crews/{fx.credentials.crew_id}/help", json={"note": "matrix walk"}
    ),
    ("DELETE", "/api/v1/crews/{crew_id}/help"): _request(
        "DELETE", "/api/v1/crews/{fx.credentials.crew_id}/help"
    ),
    ("POST", "/api/v1/damage-assessments"): _request(
        "POST",
        "/api/v1/damage-assessments",
        json={
            "incident_id": 999999,
            "assessed_at": "2026-01-01T00:00:00Z",
            "crew_type_needed": "overhead_line",
            "hours_needed": 2,
        },
    ),
    ("GET", "/api/v1/incidents/{incident_id}/damage-assessments"): _request(
        "GET", "/api/v1/incidents/{fx.crew_incident}/damage-assessments"
    ),
    ("POST", "/api/v1/dispatch/plan"): _request(
        "POST", "/api/v1/dispatch/plan", json={"time_limit_s": 0.5}
    ),
    ("GET", "/api/v1/dispatch/plan"): _request("GET", "/api/v1/dispatch/plan"),
    ("POST", "/api/v1/dispatch/pins"): _request(
        "POST", "/api/v1/dispatch/pins", json={"incident_id": 999999, "crew_id": 999999}
    ),
    ("DELETE", "/api/v1/dispatch/pins/{incident_id}"): _request(
        "DELETE", "/api/v1/dispatch/pins/999999"
    ),
    ("GET", "/crew"): _request("GET", "/crew"),
    ("GET", "/crew/jobs/{incident_id}/devices"): _request("GET", "/crew/jobs/999999/devices"),
    ("POST", "/crew/jobs/{incident_id}/photos"): _request(
        "POST", "/crew/jobs/999999/photos", files={"photo": ("a.txt", b"no")}
    ),
    ("POST", "/crew/orders/{order_id}/steps/{position}"): _request(
        "POST", "/crew/orders/999999/steps/1"
    ),
    # notifications and planned outages
    ("GET", "/api/v1/notifications"): _request(
        "GET", "/api/v1/notifications", params={"customer": "nobody"}
    ),
    ("GET", "/api/v1/notifications/preferences"): _request(
        "GET", "/api/v1/notifications/preferences", params={"customer": "nobody"}
    ),
    ("PUT", "/api/v1/notifications/preferences"): _request(
        "PUT", "/api/v1/notifications/preferences", params={"customer": "nobody"}, json={}
    ),
    ("GET", "/api/v1/incidents/{incident_id}/notifications.csv"): _request(
        "GET", "/api/v1/incidents/{fx.crew_incident}/notifications.csv"
    ),
    # storms (a level out of range: refused for its content, never declared)
    ("GET", "/api/v1/storms"): _request("GET", "/api/v1/storms"),
    ("GET", "/api/v1/storms/proposal"): _request("GET", "/api/v1/storms/proposal"),
    ("GET", "/api/v1/transparency/roots"): _request("GET", "/api/v1/transparency/roots"),
    ("GET", "/api/v1/transparency/figures"): _request(
        "GET", "/api/v1/transparency/figures", params={"first": "2025-01", "last": "2025-02"}
    ),
    ("GET", "/api/v1/transparency/figures.csv"): _request(
        "GET", "/api/v1/transparency/figures.csv", params={"first": "2025-01", "last": "2025-02"}
    ),
    ("GET", "/transparency"): _request(
        "GET", "/transparency", params={"first": "2025-01", "last": "2025-02"}
    ),
    ("POST", "/api/v1/storms"): _request(
        "POST", "/api/v1/storms", json={"name": "matrix walk", "level": 9}
    ),
    ("GET", "/api/v1/storms/{storm_id}"): _request("GET", "/api/v1/storms/999999"),
    ("PATCH", "/api/v1/storms/{storm_id}"): _request(
        "PATCH", "/api/v1/storms/999999", json={"expected_version": 1, "level": 2}
    ),
    ("GET", "/api/v1/planned-outages"): _request("GET", "/api/v1/planned-outages"),
    ("POST", "/api/v1/planned-outages"): _request(
        "POST",
        "/api/v1/planned-outages",
        json={
            "device": "no-such-device",
            "starts_at": "2099-01-01T08:00:00+07:00",
            "ends_at": "2099-01-01T12:00:00+07:00",
            "reason": "matrix walk",
        },
    ),
    ("PATCH", "/api/v1/planned-outages/{planned_id}"): _request(
        "PATCH", "/api/v1/planned-outages/999999", json={"reason": "matrix walk"}
    ),
    ("DELETE", "/api/v1/planned-outages/{planned_id}"): _request(
        "DELETE", "/api/v1/planned-outages/999999"
    ),
    ("POST", "/api/v1/subscriptions"): _request(
        "POST", "/api/v1/subscriptions", json={"account": "nobody", "contact": "0912 000 111"}
    ),
    ("POST", "/api/v1/subscriptions/{handle}/code"): _request(
        "POST", "/api/v1/subscriptions/no-such-handle-0000/code"
    ),
    ("POST", "/api/v1/subscriptions/{handle}/verify"): _request(
        "POST", "/api/v1/subscriptions/no-such-handle-0000/verify", json={"code": "123456"}
    ),
    ("GET", "/api/v1/subscriptions/{token}"): _request(
        "GET", "/api/v1/subscriptions/no-such-token-at-all"
    ),
    ("PATCH", "/api/v1/subscriptions/{token}"): _request(
        "PATCH", "/api/v1/subscriptions/no-such-token-at-all", json={"language": "en"}
    ),
    ("DELETE", "/api/v1/subscriptions/{token}"): _request(
        "DELETE", "/api/v1/subscriptions/no-such-token-at-all"
    ),
    ("GET", "/alerts"): _request("GET", "/alerts"),
    ("POST", "/alerts"): _request("POST", "/alerts", data={"account": "nobody", "contact": "x"}),
    ("POST", "/alerts/{handle}/verify"): _request(
        "POST", "/alerts/no-such-handle-0000/verify", data={"code": "123456"}
    ),
    ("GET", "/alerts/s/{token}"): _request("GET", "/alerts/s/no-such-token"),
    ("POST", "/alerts/s/{token}"): _request(
        "POST", "/alerts/s/no-such-token", data={"language": "en"}
    ),
    ("POST", "/alerts/s/{token}/stop"): _request("POST", "/alerts/s/no-such-token/stop"),
    ("GET", "/u/{token}"): _request("GET", "/u/no-such-token"),
    ("POST", "/u/{token}"): _request("POST", "/u/no-such-token"),
    ("GET", "/n/{token}"): _request("GET", "/n/no-such-token"),
    ("POST", "/n/{token}"): _request("POST", "/n/no-such-token", data={"answer": "restored"}),
    # maps: the dispatcher's and the public's
    ("GET", "/dispatch"): _request("GET", "/dispatch"),
    ("GET", "/dispatch/map.js"): _request("GET", "/dispatch/map.js"),
    ("GET", "/map"): _request("GET", "/map"),
    ("GET", "/favicon.ico"): _request("GET", "/favicon.ico"),
    ("GET", "/map/map.js"): _request("GET", "/map/map.js"),
    ("GET", "/api/v1/map/public.geojson"): _request("GET", "/api/v1/map/public.geojson"),
    ("GET", "/api/v1/map/outline.geojson"): _request("GET", "/api/v1/map/outline.geojson"),
    ("GET", "/api/v1/map/lookup"): _request("GET", "/api/v1/map/lookup?q=no-such-place"),
    ("GET", "/api/v1/map/areas.geojson"): _request("GET", "/api/v1/map/areas.geojson"),
    ("GET", "/api/v1/public/summary"): _request("GET", "/api/v1/public/summary"),
    ("GET", "/api/v1/public/cap"): _request("GET", "/api/v1/public/cap"),
    ("GET", "/api/v1/public/cap/{identifier}"): _request("GET", "/api/v1/public/cap/none.1"),
    ("GET", "/api/v1/public/feed.atom"): _request("GET", "/api/v1/public/feed.atom"),
    ("GET", "/api/v1/map/reports.geojson"): _request("GET", "/api/v1/map/reports.geojson"),
    ("GET", "/api/v1/map/crews.geojson"): _request("GET", "/api/v1/map/crews.geojson"),
    ("GET", "/api/v1/map/network.geojson"): _request("GET", "/api/v1/map/network.geojson"),
    ("GET", "/api/v1/map/incidents/{incident_id}/restoration-plans.geojson"): _request(
        "GET", "/api/v1/map/incidents/999999/restoration-plans.geojson"
    ),
    # customer-care service requests and the supervisor dashboard
    ("POST", "/api/v1/requests"): _request(
        "POST", "/api/v1/requests", json={"type": "billing_question", "address": "lot 9, nowhere"}
    ),
    ("GET", "/api/v1/requests"): _request("GET", "/api/v1/requests"),
    ("GET", "/api/v1/requests/{ticket}"): _request(
        "GET", "/api/v1/requests/260101-ZZZZZZ", params={"phone_last4": "5678"}
    ),
    ("PATCH", "/api/v1/requests/{ticket}"): _request(
        "PATCH", "/api/v1/requests/260101-ZZZZZZ", json={"state": "in_progress"}
    ),
    ("POST", "/api/v1/requests/{ticket}/rating"): _request(
        "POST", "/api/v1/requests/260101-ZZZZZZ/rating", json={"rating": 5, "phone_last4": "5678"}
    ),
    ("GET", "/api/v1/requests/{ticket}/history"): _request(
        "GET", "/api/v1/requests/260101-ZZZZZZ/history", params={"phone_last4": "5678"}
    ),
    ("POST", "/api/v1/requests/{ticket}/owner"): _request(
        "POST", "/api/v1/requests/260101-ZZZZZZ/owner", json={"team": "customer-care"}
    ),
    ("GET", "/api/v1/care/teams"): _request("GET", "/api/v1/care/teams"),
    ("GET", "/supervisor"): _request("GET", "/supervisor"),
    ("GET", "/supervisor/live.json"): _request("GET", "/supervisor/live.json"),
    ("GET", "/switching"): _request("GET", "/switching"),
    ("POST", "/switching/return-to-normal"): _request(
        "POST", "/switching/return-to-normal", data={"asset_ref": "nope"}
    ),
    ("POST", "/agent/requests"): _request(
        "POST", "/agent/requests", data={"account": "nope", "type": "meter_check"}
    ),
    ("POST", "/agent/reports/{ticket}/visit"): _request(
        "POST", "/agent/reports/{fx.phone_ticket}/visit", data={"q": "0912"}
    ),
    ("POST", "/api/v1/reports/{ticket}/visit"): _request(
        "POST", "/api/v1/reports/{fx.phone_ticket}/visit"
    ),
    ("GET", "/request"): _request("GET", "/request"),
    ("POST", "/request"): _request(
        "POST", "/request", data={"type": "billing_question", "address": "lot 9, nowhere"}
    ),
    ("GET", "/request/{ticket}"): _request("GET", "/request/260101-ZZZZZZ"),
    ("POST", "/request/{ticket}"): _request(
        "POST", "/request/260101-ZZZZZZ", data={"phone_last4": "5678"}
    ),
    ("POST", "/request/{ticket}/rating"): _request(
        "POST", "/request/260101-ZZZZZZ/rating", data={"rating": "5", "phone_last4": "5678"}
    ),
    # reliability
    ("GET", "/api/v1/reliability"): _request(
        "GET", "/api/v1/reliability", params={"start": "2025-01-01", "end": "2025-01-31"}
    ),
    ("GET", "/api/v1/reliability.csv"): _request(
        "GET", "/api/v1/reliability.csv", params={"start": "2025-01-01", "end": "2025-01-31"}
    ),
    ("GET", "/api/v1/after-action"): _request(
        "GET", "/api/v1/after-action", params={"start": "2025-01-01", "end": "2025-01-31"}
    ),
    ("GET", "/api/v1/after-action.csv"): _request(
        "GET", "/api/v1/after-action.csv", params={"start": "2025-01-01", "end": "2025-01-31"}
    ),
    ("GET", "/api/v1/after-action/replay"): _request(
        "GET", "/api/v1/after-action/replay", params={"start": "2025-01-01", "end": "2025-01-31"}
    ),
    ("GET", "/api/v1/after-action/replay.csv"): _request(
        "GET",
        "/api/v1/after-action/replay.csv",
        params={"start": "2025-01-01", "end": "2025-01-31"},
    ),
    ("GET", "/after-action"): _request(
        "GET", "/after-action", params={"start": "2025-01-01", "end": "2025-01-31"}
    ),
}
"""One request per route that its permission's holders may make (content aside)."""


@pytest.fixture(scope="module")
def walk(auth_database: str, auth_credentials: Credentials, auth_app: FastAPI) -> Fixture:
    with TestClient(auth_app) as client:
        queued = client.post("/api/v1/reports", json={"address": "behind the school, lot 77"})
        with_phone = client.post(
            "/api/v1/reports", json={"phone": "0912 345 678", "address": "lot 78, no street"}
        )
    with session_scope(session_factory(auth_database)) as session:
        device = session.scalar(text("SELECT asset_ref FROM devices ORDER BY id LIMIT 1"))
        incident = open_incident(
            session,
            kind=IncidentKind.HAZARD,
            hazard=Hazard.TREE_ON_LINE,
            confidence=0.5,
            customers_affected=0,
            started_at=datetime.now(UTC) - timedelta(minutes=5),
            reason="matrix walk",
        )
        assign = IncidentPatch(action=Action.ASSIGN, crew_id=auth_credentials.crew_id)
        apply_action(session, incident, assign, "test")
    return Fixture(
        database_url=auth_database,
        credentials=auth_credentials,
        queued_ticket=queued.json()["ticket"],
        phone_ticket=with_phone.json()["ticket"],
        crew_incident=incident,
        device=str(device),
    )


def _app() -> FastAPI:
    """The app, for its routes only (it never connects)."""
    return create_app("postgresql://matrix.invalid/none")


def test_every_route_declares_exactly_one_permission() -> None:
    for route, is_api in served_routes(_app()):
        if is_api:
            declared = requirement_of(route)
            assert len(declared) == 1, f"{route.methods} {route.path}: {declared}"
        else:
            assert route.path in matrix.UNGUARDED_PATHS, f"{route.path} declares no permission"


def test_the_walk_covers_every_route() -> None:
    served = {(method, rule.path) for rule in route_rules(_app()) for method in rule.methods}
    assert served == set(REQUESTS)


def test_the_matrix_is_consistent() -> None:
    every = set(matrix.PERMISSIONS)
    assert every >= matrix.PUBLIC
    for grants in (*matrix.ROLE_GRANTS.values(), *matrix.SCOPE_GRANTS.values()):
        assert grants <= every
    assert set(matrix.ROLE_GRANTS) == set(Role) and set(matrix.SCOPE_GRANTS) == set(Scope)
    assert matrix.ROLE_GRANTS[Role.ADMIN] | matrix.PUBLIC == every
    for (role, permission), restriction in matrix.RESTRICTIONS.items():
        assert permission in matrix.ROLE_GRANTS[role]
        assert restriction.actions
    with pytest.raises(KeyError):
        matrix.check_known("no.such.permission")


def test_the_documentation_is_up_to_date() -> None:
    rendered = matrix.render_markdown(route_rules(_app()))
    assert DOC.read_text(encoding="utf-8") == rendered, (
        "docs/access-control.md is stale: run `outage access-matrix -o docs/access-control.md`"
    )


_RULES = {(m, rule.path): rule for rule in route_rules(_app()) for m in rule.methods}
_REQUIREMENTS = {
    (m, route.path): requirement_of(route)[0]
    for route, is_api in served_routes(_app())
    if is_api and requirement_of(route)
    for m in route.methods
}


@pytest.mark.parametrize("who", EVERYONE, ids=lambda w: w.name)
@pytest.mark.parametrize("route", sorted(REQUESTS), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_caller_as_the_matrix_says(
    auth_app: FastAPI, walk: Fixture, route: tuple[str, str], who: Who
) -> None:
    requirement = _REQUIREMENTS[route]
    roles = [who.role] if who.role else []
    scopes = [who.scope] if who.scope else []
    allowed = matrix.grant(roles, scopes, requirement.permission) is not None
    client = TestClient(auth_app)
    answer = REQUESTS[route](client, walk, who)
    shown = f"{who.name} {route}: {answer.status_code} {answer.text[:300]}"
    assert answer.status_code < 500, shown
    to_login = answer.status_code == 303 and answer.headers["location"].startswith("/login?")
    if allowed:
        assert answer.status_code not in (401, 403), shown
        assert not (requirement.page and to_login), shown
    elif who.role is None and who.scope is None:
        if requirement.page:
            assert to_login, shown
        elif requirement.open311:
            assert answer.status_code == 403, shown
        else:
            assert answer.status_code == 401, shown
            assert answer.headers["www-authenticate"] == "Bearer"
    else:
        assert answer.status_code == 403, shown


# The crew member's restriction: their own crew's incidents, and only some actions.


def test_crew_member_acts_only_on_their_crews_incidents(
    anyone: TestClient,
    auth_database: str,
    auth_credentials: Credentials,
    new_incident: Callable[..., int],
) -> None:
    crew = auth_credentials.staff(Role.CREW)
    with session_scope(session_factory(auth_database)) as session:
        other_crew = make_crew(session)
    ours, theirs = new_incident(auth_credentials.crew_id), new_incident(other_crew)
    nobodys = new_incident()
    for action in ({"action": "en_route"}, {"action": "on_site"}):
        answer = anyone.patch(f"/api/v1/incidents/{ours}", json=action, headers=crew)
        assert answer.status_code == 200, answer.text
    for other in (theirs, nobodys, 987654321):
        answer = anyone.patch(
            f"/api/v1/incidents/{other}", json={"action": "en_route"}, headers=crew
        )
        assert answer.status_code == 403, answer.text
    refused: list[dict[str, Any]] = [
        {"action": "cancel", "reason": "not ours to cancel"},
        {"action": "assign", "crew_id": other_crew},
        {"action": "close"},
    ]
    for body in refused:
        answer = anyone.patch(f"/api/v1/incidents/{ours}", json=body, headers=crew)
        assert answer.status_code == 403, answer.text
    # A dispatcher has no such limits.
    dispatcher = auth_credentials.staff(Role.DISPATCHER)
    answer = anyone.patch(
        f"/api/v1/incidents/{theirs}", json={"action": "en_route"}, headers=dispatcher
    )
    assert answer.status_code == 200, answer.text


def test_staff_pages_refuse_other_roles_in_html(
    anyone: TestClient, auth_credentials: Credentials
) -> None:
    answer = anyone.get("/agent?lang=en", headers=auth_credentials.staff(Role.CREW))
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"]
    assert "Not allowed" in answer.text
    assert re.search(r"<h1>Not allowed</h1>", answer.text)
