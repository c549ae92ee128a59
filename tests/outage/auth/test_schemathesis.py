"""The whole OpenAPI, fuzzed by schemathesis as an administrator and as an anonymous
caller: no answer is a server error.

Bounded (a few examples per operation) so it runs in CI on every change; on the
access-control database, so the reports it files disturb no other suite.
"""

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import settings
from starlette.types import ASGIApp, Receive, Scope, Send

from outage.app import create_app
from outage.auth import service
from outage.auth.enums import Role, SessionKind
from outage.db import session_factory, session_scope
from tests.conftest import FUZZ, Credentials, username


class _Switchable:
    """The app schemathesis calls: the schema is read at collection from an app that
    never connects; the tests swap in the one on the test database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


_target = _Switchable(create_app("postgresql://schema.invalid/none"))
schema = schemathesis.openapi.from_asgi("/openapi.json", _target)


@pytest.fixture
def admin(auth_app: FastAPI, auth_database: str, auth_credentials: Credentials) -> dict[str, str]:
    """A token of its own for each operation (one of them revokes the token it is sent
    with), and the app on the test database behind the schema."""
    _target.app = auth_app
    with session_scope(session_factory(auth_database)) as session:
        granted = service.open_session(
            session,
            username=username(Role.ADMIN),
            kind=SessionKind.BEARER,
            now=datetime.now(UTC),
            lifetime=timedelta(hours=1),
        )
    return {"Authorization": f"Bearer {granted.token}"}


@pytest.fixture
def anonymous(auth_app: FastAPI) -> dict[str, str]:
    """No credentials; the app on the test database behind the schema."""
    _target.app = auth_app
    return {}


def _no_server_error(case: Any, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} {case.query} {case.body!r}: "
        f"{response.status_code} {response.text[:500]}"
    )


@schema.parametrize()
@settings(FUZZ, max_examples=5)
def test_no_operation_answers_with_a_server_error(case: Any, admin: dict[str, str]) -> None:
    _no_server_error(case, admin)


@schema.parametrize()
@settings(FUZZ, max_examples=5)
def test_no_operation_answers_an_anonymous_caller_with_a_server_error(
    case: Any, anonymous: dict[str, str]
) -> None:
    _no_server_error(case, anonymous)


class _Workflows(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls chained by the links schemathesis finds (an id a POST answers
    used by the GETs and PATCHes of that resource), as an administrator."""

    headers: ClassVar[dict[str, str]] = {}

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        return {"headers": self.headers}

    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} {case.body!r}: "
            f"{response.status_code} {response.text[:500]}"
        )


def test_no_sequence_of_linked_operations_answers_with_a_server_error(
    admin: dict[str, str],
) -> None:
    _Workflows.headers = admin
    _Workflows.run(settings=settings(FUZZ, max_examples=15, stateful_step_count=6))
