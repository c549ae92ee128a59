"""Signing in and out: bearer tokens, the login page and its cookie, lockout, expiry."""

import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from outage.auth import service
from outage.auth.enums import LoginOutcome, Role, SessionKind
from outage.db import session_factory, session_scope
from tests.conftest import STAFF_PASSWORD, Credentials, make_crew, username

from .conftest import CSRF_INPUT, sign_in_on_the_web

TOKEN_URL = "/api/v1/auth/token"


def _token(client: TestClient, user: str, password: str = STAFF_PASSWORD) -> Any:
    return client.post(TOKEN_URL, data={"username": user, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def new_user(auth_database: str) -> Callable[..., str]:
    """A staff member of their own (so a lockout locks nobody else)."""

    def make(role: Role = Role.AGENT) -> str:
        name = f"user-{uuid.uuid4().hex[:10]}"
        with session_scope(session_factory(auth_database)) as session:
            service.create_user(
                session,
                username=name,
                password=STAFF_PASSWORD,
                role=role,
                crew_id=make_crew(session) if role is Role.CREW else None,
            )
        return name

    return make


def test_a_token_opens_the_api_until_it_is_revoked(anyone: TestClient) -> None:
    answer = _token(anyone, username(Role.DISPATCHER))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert 11 * 3600 < body["expires_in"] <= 12 * 3600
    assert answer.headers["cache-control"] == "no-store"
    me = anyone.get("/api/v1/auth/me", headers=_bearer(body["access_token"])).json()
    assert (me["name"], me["kind"], me["roles"], me["crew_id"]) == (
        "test-dispatcher",
        "staff",
        ["dispatcher"],
        None,
    )
    assert {"incidents.act", "grid.read"} <= set(me["permissions"])
    assert "customers.lookup" not in me["permissions"]
    assert me["csrf_token"] is None

    assert anyone.delete(TOKEN_URL, headers=_bearer(body["access_token"])).status_code == 204
    refused = anyone.get("/api/v1/auth/me", headers=_bearer(body["access_token"]))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


def test_wrong_password_and_unknown_user_get_the_same_401(anyone: TestClient) -> None:
    wrong = _token(anyone, username(Role.SUPERVISOR), "not the password")
    unknown = _token(anyone, f"nobody-{uuid.uuid4().hex[:6]}")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong username or password"}


def test_crew_member_sees_their_crew_and_restriction(
    anyone: TestClient, auth_credentials: Credentials
) -> None:
    token = _token(anyone, username(Role.CREW)).json()["access_token"]
    me = anyone.get("/api/v1/auth/me", headers=_bearer(token)).json()
    assert auth_credentials.crew_id is not None
    assert me["crew_id"] == auth_credentials.crew_id
    assert "incidents.act (own crew)" in me["permissions"]


def test_repeated_failures_answer_429_with_retry_after(
    anyone: TestClient, new_user: Callable[..., str], query: Callable[..., list[Any]]
) -> None:
    user = new_user()
    answers = [_token(anyone, user, "wrong password!") for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5
    # Each further try waits twice as long as the one before (1 s, 2 s, 4 s ...).
    for _ in range(5):
        answer = _token(anyone, user, "wrong password!")
        if answer.status_code == 429:
            break
    assert answer.status_code == 429
    assert 1 <= int(answer.headers["retry-after"]) <= 16
    outcomes = [
        row.outcome
        for row in query(
            "SELECT outcome FROM login_attempts WHERE username = :u ORDER BY id", u=user
        )
    ]
    assert outcomes[:5] == ["failed"] * 5 and outcomes[-1] == "locked"


def test_repeated_failures_on_the_page_answer_429_with_retry_after(
    fresh_client: TestClient, new_user: Callable[..., str]
) -> None:
    user = new_user()
    answer = fresh_client.get("/login?lang=en")
    statuses = []
    for _ in range(10):
        [login_csrf] = CSRF_INPUT.findall(answer.text)  # each answer sets a new one
        fields = {"username": user, "password": "wrong password!", "csrf_token": login_csrf}
        answer = fresh_client.post("/login", data={**fields, "lang": "en"})
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            break
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    assert 1 <= int(answer.headers["retry-after"]) <= 16
    assert f"Try again in {answer.headers['retry-after']} seconds." in answer.text


@pytest.fixture
def attempt(auth_database: str, new_user: Callable[..., str]) -> Callable[..., Any]:
    """A sign-in through the service at a given time from a given address."""

    def run(
        user: str,
        at: datetime,
        *,
        address: str = "192.0.2.1",
        password: str = "wrong password!",
        policy: service.LoginPolicy = service.LoginPolicy(),
    ) -> service.LoginResult:
        with session_scope(session_factory(auth_database)) as session:
            return service.log_in(
                session,
                username=user,
                password=password,
                kind=SessionKind.BEARER,
                client_ip=address,
                now=at,
                policy=policy,
            )

    return run


def test_failures_from_one_address_never_block_another(
    attempt: Callable[..., Any], new_user: Callable[..., str]
) -> None:
    user = new_user()
    now = datetime.now(UTC)
    for second in range(20):
        attempt(user, now + timedelta(seconds=second), address="203.0.113.66")
    granted = attempt(
        user, now + timedelta(seconds=20), address="198.51.100.7", password=STAFF_PASSWORD
    )
    assert isinstance(granted, service.Granted)


def test_the_delay_doubles_up_to_its_cap(
    attempt: Callable[..., Any], new_user: Callable[..., str]
) -> None:
    user = new_user()
    policy = service.LoginPolicy(max_failures=2, max_delay=timedelta(seconds=5))
    at = datetime.now(UTC)
    for _ in range(2):
        assert isinstance(attempt(user, at, policy=policy), service.Refused)
    waits = []
    for _ in range(5):
        locked = attempt(user, at, policy=policy, password=STAFF_PASSWORD)
        assert isinstance(locked, service.Locked)
        waits.append(locked.retry_after_s)
        at += timedelta(seconds=locked.retry_after_s)
        assert isinstance(attempt(user, at, policy=policy), service.Refused)
    assert waits == [1, 2, 4, 5, 5]


def test_tries_during_the_delay_do_not_extend_it(
    attempt: Callable[..., Any], new_user: Callable[..., str]
) -> None:
    user = new_user()
    policy = service.LoginPolicy(max_failures=1)
    start = datetime.now(UTC)
    assert isinstance(attempt(user, start, policy=policy), service.Refused)
    for tenth in range(1, 10):
        at = start + timedelta(seconds=tenth / 10)
        assert isinstance(attempt(user, at, policy=policy), service.Locked)
    granted = attempt(user, start + timedelta(seconds=1), policy=policy, password=STAFF_PASSWORD)
    assert isinstance(granted, service.Granted)


def test_one_address_trying_many_usernames_is_slowed(
    attempt: Callable[..., Any], new_user: Callable[..., str]
) -> None:
    policy = service.LoginPolicy(address_max_failures=3)
    at = datetime.now(UTC)
    for _ in range(3):
        assert isinstance(
            attempt(new_user(), at, address="203.0.113.9", policy=policy), service.Refused
        )
    user = new_user()
    locked = attempt(user, at, address="203.0.113.9", password=STAFF_PASSWORD, policy=policy)
    assert isinstance(locked, service.Locked)
    elsewhere = attempt(user, at, address="203.0.113.10", password=STAFF_PASSWORD, policy=policy)
    assert isinstance(elsewhere, service.Granted)


def test_counting_starts_afresh_after_a_quiet_window(
    attempt: Callable[..., Any], new_user: Callable[..., str]
) -> None:
    user = new_user()
    policy = service.LoginPolicy(max_failures=2, window=timedelta(minutes=15))
    start = datetime.now(UTC)
    for _ in range(2):
        attempt(user, start, policy=policy)
    assert isinstance(attempt(user, start, policy=policy), service.Locked)
    later = start + timedelta(minutes=15, seconds=1)
    for _ in range(2):
        assert isinstance(attempt(user, later, policy=policy), service.Refused)
    assert isinstance(attempt(user, later, policy=policy), service.Locked)


def test_parallel_wrong_passwords_get_at_most_the_allowed_checks(
    attempt: Callable[..., Any], new_user: Callable[..., str], query: Callable[..., list[Any]]
) -> None:
    user = new_user()
    at = datetime.now(UTC)
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: attempt(user, at), range(20)))
    checked = [r for r in results if isinstance(r, service.Refused)]
    assert len(checked) == service.LoginPolicy().max_failures
    outcomes = query(
        "SELECT outcome, count(*) AS n FROM login_attempts WHERE username = :u GROUP BY outcome",
        u=user,
    )
    assert {r.outcome: r.n for r in outcomes} == {"failed": 5, "locked": 15}


def test_a_success_clears_earlier_failures(
    anyone: TestClient, new_user: Callable[..., str]
) -> None:
    user = new_user()
    for _ in range(4):
        _token(anyone, user, "wrong password!")
    assert _token(anyone, user).status_code == 200
    for _ in range(4):
        _token(anyone, user, "wrong password!")
    assert _token(anyone, user).status_code == 200


def test_disabling_a_user_ends_their_tokens(
    anyone: TestClient, auth_database: str, new_user: Callable[..., str]
) -> None:
    user = new_user(Role.DISPATCHER)
    token = _token(anyone, user).json()["access_token"]
    assert anyone.get("/api/v1/incidents", headers=_bearer(token)).status_code == 200
    with session_scope(session_factory(auth_database)) as session:
        assert service.disable_user(session, username=user, now=datetime.now(UTC))
    assert anyone.get("/api/v1/incidents", headers=_bearer(token)).status_code == 401
    assert _token(anyone, user).status_code == 401


def test_an_expired_token_is_refused(anyone: TestClient, auth_database: str) -> None:
    with session_scope(session_factory(auth_database)) as session:
        granted = service.open_session(
            session,
            username=username(Role.AGENT),
            kind=SessionKind.BEARER,
            now=datetime.now(UTC) - timedelta(hours=13),
            lifetime=timedelta(hours=12),
        )
    answer = anyone.get("/api/v1/auth/me", headers=_bearer(granted.token))
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def test_tokens_are_stored_hashed(anyone: TestClient, query: Callable[..., list[Any]]) -> None:
    token = _token(anyone, username(Role.AGENT)).json()["access_token"]
    rows = query("SELECT token_hash FROM auth_sessions WHERE token_hash = :h", h=token)
    assert rows == []
    assert query("SELECT 1 FROM auth_sessions WHERE token_hash = :h", h=service.digest(token)) == [
        (1,)
    ]
    [stored] = query("SELECT password_hash FROM staff_users WHERE username = 'test-agent'")
    assert stored.password_hash.startswith("$argon2id$")


# The login page and the session cookie.


def test_signed_out_staff_page_goes_to_login_and_back(fresh_client: TestClient) -> None:
    answer = fresh_client.get("/agent?q=Ly+Thuong+Kiet&lang=en", follow_redirects=False)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/agent?q=Ly+Thuong+Kiet&lang=en"], "lang": ["en"]}

    form = fresh_client.get(answer.headers["location"])
    assert form.status_code == 200
    assert 'name="next" value="/agent?q=Ly+Thuong+Kiet&amp;lang=en"' in form.text
    [login_csrf] = CSRF_INPUT.findall(form.text)
    signed_in = fresh_client.post(
        "/login",
        data={
            "username": username(Role.AGENT),
            "password": STAFF_PASSWORD,
            "csrf_token": login_csrf,
            "next": "/agent?q=Ly+Thuong+Kiet&lang=en",
            "lang": "en",
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/agent?q=Ly+Thuong+Kiet&lang=en"
    cookie = next(
        value
        for name, value in signed_in.headers.multi_items()
        if name == "set-cookie" and value.startswith("outage_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie, "plain HTTP (tests): no Secure flag"
    page = fresh_client.get("/agent?q=Ly+Thuong+Kiet&lang=en")
    assert page.status_code == 200
    assert "test-agent" in page.text


def test_session_cookie_is_secure_over_tls(auth_app: FastAPI) -> None:
    with TestClient(auth_app, base_url="https://testserver") as client:
        form = client.get("/login")
        [login_csrf] = CSRF_INPUT.findall(form.text)
        signed_in = client.post(
            "/login",
            data={
                "username": username(Role.AGENT),
                "password": STAFF_PASSWORD,
                "csrf_token": login_csrf,
            },
            follow_redirects=False,
        )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/agent"
    assert "Secure" in signed_in.headers["set-cookie"]
    assert signed_in.headers["strict-transport-security"].startswith("max-age=")


def test_login_form_without_its_token_is_refused(fresh_client: TestClient) -> None:
    answer = fresh_client.post(
        "/login",
        data={"username": username(Role.AGENT), "password": STAFF_PASSWORD, "csrf_token": "x"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "outage_session" not in answer.headers.get("set-cookie", "")


def test_wrong_password_on_the_page_says_so(fresh_client: TestClient) -> None:
    form = fresh_client.get("/login?lang=en")
    [login_csrf] = CSRF_INPUT.findall(form.text)
    answer = fresh_client.post(
        "/login",
        data={
            "username": username(Role.AGENT),
            "password": "not it at all",
            "csrf_token": login_csrf,
            "lang": "en",
        },
    )
    assert answer.status_code == 401
    assert "Wrong username or password." in answer.text
    assert 'value="test-agent"' in answer.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_next_never_leaves_the_site(fresh_client: TestClient, target: str) -> None:
    form = fresh_client.get("/login", params={"next": target})
    assert "evil" not in form.text
    [login_csrf] = CSRF_INPUT.findall(form.text)
    answer = fresh_client.post(
        "/login",
        data={
            "username": username(Role.DISPATCHER),
            "password": STAFF_PASSWORD,
            "csrf_token": login_csrf,
            "next": target,
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/dispatch", "the dispatcher's landing page"


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.AGENT, "/agent"),
        (Role.DISPATCHER, "/dispatch"),
        (Role.CREW, "/crew"),
        (Role.SUPERVISOR, "/supervisor"),
        (Role.ADMIN, "/supervisor"),
    ],
)
def test_signing_in_lands_on_the_roles_own_page(
    fresh_client: TestClient, role: Role, landing: str
) -> None:
    form = fresh_client.get("/login")
    [login_csrf] = CSRF_INPUT.findall(form.text)
    answer = fresh_client.post(
        "/login",
        data={"username": username(role), "password": STAFF_PASSWORD, "csrf_token": login_csrf},
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, landing)
    assert fresh_client.get(landing).status_code == 200, "the landing page opens for the role"


@pytest.mark.parametrize("with_csrf", [True, False], ids=["with-csrf", "without-csrf"])
def test_logout_ends_the_web_session_server_side(
    fresh_client: TestClient, auth_app: FastAPI, with_csrf: bool
) -> None:
    csrf = sign_in_on_the_web(fresh_client, username(Role.AGENT))
    old_cookie = fresh_client.cookies["outage_session"]
    assert fresh_client.get("/agent").status_code == 200
    form = {"csrf_token": csrf} if with_csrf else {}
    answer = fresh_client.post("/logout", data=form, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")
    assert re.search(r'outage_session=""?;', answer.headers["set-cookie"])
    with TestClient(auth_app, cookies={"outage_session": old_cookie}) as replay:
        assert replay.get("/agent", follow_redirects=False).status_code == 303
        assert replay.get("/api/v1/auth/me").status_code == 401


def test_login_attempts_record_the_outcome(
    anyone: TestClient, new_user: Callable[..., str], query: Callable[..., list[Any]]
) -> None:
    user = new_user()
    _token(anyone, user, "wrong password!")
    _token(anyone, user)
    rows = query(
        "SELECT outcome, client_ip FROM login_attempts WHERE username = :u ORDER BY id", u=user
    )
    assert [r.outcome for r in rows] == [LoginOutcome.FAILED.value, LoginOutcome.SUCCEEDED.value]
    assert all(r.client_ip for r in rows)


def test_a_crew_member_lands_on_the_crew_page(
    fresh_client: TestClient, new_user: Callable[..., str]
) -> None:
    form = fresh_client.get("/login")
    [login_csrf] = CSRF_INPUT.findall(form.text)
    answer = fresh_client.post(
        "/login",
        data={
            "username": new_user(Role.CREW),
            "password": STAFF_PASSWORD,
            "csrf_token": login_csrf,
        },
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/crew")
    assert fresh_client.get("/crew").status_code == 200


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_administrators_land_on_the_supervisor_page(
    fresh_client: TestClient, role: Role
) -> None:
    [login_csrf] = CSRF_INPUT.findall(fresh_client.get("/login").text)
    answer = fresh_client.post(
        "/login",
        data={"username": username(role), "password": STAFF_PASSWORD, "csrf_token": login_csrf},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/supervisor"
