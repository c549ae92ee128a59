"""CSRF tokens on the cookie-authenticated forms, and the security headers of every answer."""

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outage.auth.enums import Role
from tests.conftest import Credentials, username
from tests.outage.media import pictures

from .conftest import CSRF_INPUT, sign_in_on_the_web

QUEUE_FORM = re.compile(r'<form method="post" action="(/agent/queue/[^"]+/placement)"')


def _queued_ticket(client: TestClient) -> str:
    """A new report nothing places: it waits in the review queue."""
    answer = client.post(
        "/api/v1/reports", json={"address": f"behind the market, stall {uuid.uuid4().hex[:6]}"}
    )
    assert answer.status_code == 201, answer.text
    ticket: str = answer.json()["ticket"]
    return ticket


def test_staff_form_needs_the_session_csrf_token(fresh_client: TestClient) -> None:
    csrf = sign_in_on_the_web(fresh_client, username(Role.AGENT))
    ticket = _queued_ticket(fresh_client)
    page = fresh_client.get("/agent/queue", params={"offset": 0})
    assert csrf in CSRF_INPUT.findall(page.text), "every form carries the token"
    url = f"/agent/queue/{ticket}/placement"
    form = {"premise": "no-such-premise"}

    missing = fresh_client.post(url, data=form, follow_redirects=False)
    wrong = fresh_client.post(url, data={**form, "csrf_token": "forged"}, follow_redirects=False)
    assert missing.status_code == wrong.status_code == 403
    assert "text/html" in missing.headers["content-type"]

    right = fresh_client.post(url, data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert right.status_code == 422, "let through: the premise is what is wrong"
    header = fresh_client.post(
        url, data=form, headers={"X-CSRF-Token": csrf}, follow_redirects=False
    )
    assert header.status_code == 422


def test_a_crews_photo_form_needs_the_session_csrf_token(
    fresh_client: TestClient,
    auth_credentials: Credentials,
    new_incident: Callable[..., int],
) -> None:
    csrf = sign_in_on_the_web(fresh_client, username(Role.CREW))
    incident = new_incident(auth_credentials.crew_id)
    page = fresh_client.get("/crew")
    assert f'action="/crew/jobs/{incident}/photos' in page.text
    assert csrf in CSRF_INPUT.findall(page.text)
    url = f"/crew/jobs/{incident}/photos"
    photo = {"photo": ("damage.jpg", pictures.picture(colour="navy"), "image/jpeg")}

    missing = fresh_client.post(url, files=photo, follow_redirects=False)
    assert missing.status_code == 403
    right = fresh_client.post(url, data={"csrf_token": csrf}, files=photo, follow_redirects=False)
    assert right.status_code == 303
    assert "photo=added" in right.headers["location"]


def test_another_sessions_token_does_not_pass(fresh_client: TestClient, auth_app: Any) -> None:
    with TestClient(auth_app) as other:
        theirs = sign_in_on_the_web(other, username(Role.AGENT))
    sign_in_on_the_web(fresh_client, username(Role.AGENT))
    answer = fresh_client.post(
        "/agent/reports", data={"account": "x", "csrf_token": theirs}, follow_redirects=False
    )
    assert answer.status_code == 403


def test_cookie_api_calls_that_change_state_need_the_token(fresh_client: TestClient) -> None:
    csrf = sign_in_on_the_web(fresh_client, username(Role.DISPATCHER))
    patch = {"action": "set_cause", "cause": "tree"}
    assert fresh_client.patch("/api/v1/incidents/999999999", json=patch).status_code == 403
    with_token = fresh_client.patch(
        "/api/v1/incidents/999999999", json=patch, headers={"X-CSRF-Token": csrf}
    )
    assert with_token.status_code == 404
    assert fresh_client.get("/api/v1/incidents").status_code == 200, "reading needs none"


def test_customer_form_works_for_a_signed_in_browser_without_a_staff_token(
    fresh_client: TestClient,
) -> None:
    """A public form posted from a browser with a staff cookie is taken as anyone's."""
    sign_in_on_the_web(fresh_client, username(Role.AGENT))
    form = fresh_client.get("/report")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token is not None
    answer = fresh_client.post(
        "/report",
        data={"address": "12 Lý Thường Kiệt", "token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code in (303, 422), answer.text


def test_bearer_requests_need_no_csrf_token(
    anyone: TestClient, auth_credentials: Credentials
) -> None:
    answer = anyone.post(
        "/agent/reports",
        data={"account": "x"},
        headers=auth_credentials.staff(Role.AGENT),
        follow_redirects=False,
    )
    assert answer.status_code == 422, "let through: no customer has that account"


CSP_PARTS = (
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data: https:",
    "frame-ancestors 'none'",
)


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/health", {}),
        ("GET", "/report", {}),
        ("GET", "/status/000000-XXXXX", {}),
        ("GET", "/login", {}),
        ("GET", "/open311/v2/services.xml", {}),
        ("GET", "/api/v1/incidents", {}),
        ("GET", "/static/pages.css", {}),
        ("GET", "/no-such-page", {}),
        ("POST", "/api/v1/reports", {"content": b"{" + b" " * 70_000 + b"}"}),
    ],
)
def test_every_answer_has_the_security_headers(
    anyone: TestClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    answer = anyone.request(method, path, follow_redirects=False, **kwargs)
    policy = answer.headers["content-security-policy"]
    assert all(part in policy for part in CSP_PARTS), policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in answer.headers, "not over plain HTTP"


def test_api_docs_get_a_policy_of_their_own(anyone: TestClient) -> None:
    policy = anyone.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in policy and "frame-ancestors 'none'" in policy


def test_answers_to_signed_in_callers_are_not_cached(
    anyone: TestClient, auth_credentials: Credentials
) -> None:
    staff = anyone.get("/api/v1/incidents", headers=auth_credentials.staff(Role.SUPERVISOR))
    assert staff.headers["cache-control"] == "no-store"
    public = anyone.get("/open311/v2/services.json")
    assert "no-store" not in public.headers.get("cache-control", "")
