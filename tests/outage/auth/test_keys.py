"""Integrations' API keys: scoped, stored hashed, revocable; and the CLI that manages
keys and staff accounts."""

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from outage.auth import service
from outage.auth.enums import Scope
from outage.cli import app
from outage.db import session_factory, session_scope
from outage.settings import get_settings
from tests.conftest import STAFF_PASSWORD, Credentials, make_crew

SCADA_EVENT = {"asset_ref": "no-such-device", "state": "open", "occurred_at": "2026-01-01T00:00Z"}
METER_EVENTS = {
    "events": [{"meter_id": "nope", "event": "last_gasp", "occurred_at": "2026-01-01T00:00Z"}]
}


def _issue(database_url: str, *scopes: Scope) -> tuple[str, str]:
    name = f"it-{uuid.uuid4().hex[:8]}"
    with session_scope(session_factory(database_url)) as session:
        _, key = service.create_api_key(session, name=name, scopes=scopes)
    return name, key


def test_a_key_reaches_its_scopes_routes_only(anyone: TestClient, auth_database: str) -> None:
    _, key = _issue(auth_database, Scope.SCADA)
    headers = {"X-API-Key": key}
    # 422: let through, then the unknown device is refused by the service.
    assert anyone.post("/api/v1/scada/events", json=SCADA_EVENT, headers=headers).status_code == 422
    assert anyone.post("/api/v1/ami/events", json=METER_EVENTS, headers=headers).status_code == 403
    assert anyone.get("/api/v1/incidents", headers=headers).status_code == 403
    assert anyone.get("/agent", headers=headers, follow_redirects=False).status_code == 403
    me = anyone.get("/api/v1/auth/me", headers=headers).json()
    assert (me["kind"], me["scopes"], me["roles"]) == ("api_key", ["scada"], [])
    # The same key as a bearer token.
    bearer = {"Authorization": f"Bearer {key}"}
    assert anyone.post("/api/v1/scada/events", json=SCADA_EVENT, headers=bearer).status_code == 422


def test_a_key_with_two_scopes_reaches_both(anyone: TestClient, auth_database: str) -> None:
    _, key = _issue(auth_database, Scope.SCADA, Scope.AMI)
    headers = {"X-API-Key": key}
    assert anyone.post("/api/v1/scada/events", json=SCADA_EVENT, headers=headers).status_code == 422
    assert anyone.post("/api/v1/ami/events", json=METER_EVENTS, headers=headers).status_code == 200


def test_a_revoked_key_is_refused_at_once(anyone: TestClient, auth_database: str) -> None:
    name, key = _issue(auth_database, Scope.CHANNELS)
    sms = {"from": "+84912000111", "text": "HELP"}
    assert (
        anyone.post("/api/v1/channels/sms", json=sms, headers={"X-API-Key": key}).status_code == 200
    )
    with session_scope(session_factory(auth_database)) as session:
        assert service.revoke_api_key(session, name=name, now=datetime.now(UTC))
    refused = anyone.post("/api/v1/channels/sms", json=sms, headers={"X-API-Key": key})
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


def test_keys_are_stored_hashed_and_shown_by_prefix(
    auth_database: str, query: Callable[..., list[Any]]
) -> None:
    name, key = _issue(auth_database, Scope.OPEN311)
    assert key.startswith("ok_") and len(key) > 40
    [row] = query("SELECT key_hash, prefix, scopes FROM api_keys WHERE name = :n", n=name)
    assert row.key_hash == service.digest(key) != key
    assert (row.prefix, row.scopes) == (key[:8], ["open311"])


def test_key_rules(auth_database: str) -> None:
    with session_scope(session_factory(auth_database)) as session:
        with pytest.raises(service.AccountError, match="scope"):
            service.create_api_key(session, name="no-scope", scopes=[])
        with pytest.raises(service.AccountError, match="characters"):
            service.create_api_key(session, name="short", scopes=[Scope.AMI], key="too-short")
        name = f"dup-{uuid.uuid4().hex[:6]}"
        service.create_api_key(session, name=name, scopes=[Scope.AMI])
        with pytest.raises(service.AccountError, match="exists"):
            service.create_api_key(session, name=name, scopes=[Scope.AMI])


def test_api_keys_never_count_as_staff(anyone: TestClient, auth_credentials: Credentials) -> None:
    """Staff routes want a signed-in person: no key scope reaches them."""
    for scope in Scope:
        headers = auth_credentials.key(scope)
        assert anyone.get("/api/v1/reports", headers=headers).status_code == 403
        assert anyone.get("/api/v1/grid/devices", headers=headers).status_code == 403


# The command line.


@pytest.fixture
def cli(auth_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", auth_database)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_users_add_list_disable(
    cli: CliRunner, anyone: TestClient, auth_database: str, query: Callable[..., list[Any]]
) -> None:
    name = f"crew-{uuid.uuid4().hex[:6]}"
    with session_scope(session_factory(auth_database)) as session:
        crew = make_crew(session)
    added = cli.invoke(
        app,
        [
            "users",
            "add",
            name,
            "--role",
            "crew",
            "--crew",
            str(crew),
            "--name",
            "Tổ 12",
            "--password-stdin",
        ],
        input=f"{STAFF_PASSWORD}\n",
    )
    assert added.exit_code == 0, added.output
    listed = cli.invoke(app, ["users", "list"])
    assert f"{name}\tcrew\t{crew}\tTổ 12\tactive" in listed.output.splitlines()
    token = anyone.post(
        "/api/v1/auth/token", data={"username": name, "password": STAFF_PASSWORD}
    ).json()["access_token"]

    disabled = cli.invoke(app, ["users", "disable", name])
    assert disabled.exit_code == 0, disabled.output
    assert f"{name}\tcrew\t{crew}\tTổ 12\tdisabled" in cli.invoke(app, ["users", "list"]).output
    me = anyone.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    actions = [
        r.action
        for r in query(
            "SELECT action FROM audit_log WHERE details->>'username' = :u ORDER BY id", u=name
        )
    ]
    assert actions == ["users.add", "users.disable"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "crew"], "--crew"),
        (["--role", "agent", "--crew", "3"], "only a crew member"),
        (["--role", "crew", "--crew", "2000000000"], "no crew 2000000000"),
    ],
)
def test_users_add_refuses_bad_accounts(cli: CliRunner, arguments: list[str], message: str) -> None:
    name = f"u-{uuid.uuid4().hex[:6]}"
    result = cli.invoke(
        app, ["users", "add", name, *arguments, "--password-stdin"], input=f"{STAFF_PASSWORD}\n"
    )
    assert result.exit_code == 1
    assert message in result.output
    assert name not in cli.invoke(app, ["users", "list"]).output


def test_users_add_refuses_a_weak_password(cli: CliRunner) -> None:
    result = cli.invoke(
        app, ["users", "add", "weak-one", "--role", "agent", "--password-stdin"], input="123\n"
    )
    assert result.exit_code == 1
    assert "at least 10" in result.output


def test_keys_add_shows_the_key_once_and_revoke_ends_it(cli: CliRunner, anyone: TestClient) -> None:
    name = f"meter-head-end-{uuid.uuid4().hex[:6]}"
    added = cli.invoke(app, ["keys", "add", name, "--scope", "ami"])
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[-1]
    assert key.startswith("ok_")
    headers = {"X-API-Key": key}
    assert anyone.post("/api/v1/ami/events", json=METER_EVENTS, headers=headers).status_code == 200
    listed = cli.invoke(app, ["keys", "list"]).output
    assert f"{name}\t{key[:8]}...\tami\tactive" in listed
    assert key not in listed

    assert cli.invoke(app, ["keys", "revoke", name]).exit_code == 0
    assert anyone.post("/api/v1/ami/events", json=METER_EVENTS, headers=headers).status_code == 401
    again = cli.invoke(app, ["keys", "revoke", name])
    assert again.exit_code == 1


def test_keys_add_takes_over_an_existing_key(cli: CliRunner, anyone: TestClient) -> None:
    key = f"city-app-{uuid.uuid4().hex}"
    added = cli.invoke(
        app,
        ["keys", "add", f"city-{uuid.uuid4().hex[:6]}", "--scope", "open311", "--key-stdin"],
        input=f"{key}\n",
    )
    assert added.exit_code == 0, added.output
    assert key not in added.stdout
    me = anyone.get("/api/v1/auth/me", headers={"X-API-Key": key}).json()
    assert me["scopes"] == ["open311"]
