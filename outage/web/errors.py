"""How errors become HTTP answers: domain errors as 4xx, validation problems as a short
422, the database away as 503, anything else as a logged 500."""

import logging
from collections.abc import Sequence
from typing import Any

import psycopg2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from outage.errors import DomainError

log = logging.getLogger(__name__)

NUL_REFUSED = "cannot contain NUL (0x00) characters"
"""psycopg2's words when a string parameter holds a NUL character."""

MAX_ERRORS_SHOWN = 20
"""A 422 lists this many problems at most: a body of a thousand bad keys gets a short answer."""
_MAX_ERROR_TEXT = 200
"""Longer messages and field names (a body's keys) are cut to this many characters."""

DATABASE_RETRY_AFTER_S = 5
"""What a 503 during a database restart or failover asks the client to wait."""

_DATABASE_DOWN: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
)
"""Errors that may mean the database is away: which of them do is `database_away`'s call."""

_AWAY_STATES = ("57P01", "57P02", "57P03")
"""Admin shutdown, crash shutdown, cannot connect now (SQLSTATE class 08 is away too)."""


def database_away(exc: Exception) -> bool:
    """The database is unreachable, restarting, dropped the connection or has no
    connection free: a retry may pass. Not a deadlock, a timeout or a bug of ours."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", None) or exc
    code: str | None = getattr(orig, "pgcode", None)
    if code is None:
        return isinstance(orig, psycopg2.OperationalError | psycopg2.InterfaceError)
    return code.startswith("08") or code in _AWAY_STATES


def install_error_handlers(app: FastAPI) -> None:
    """Domain errors become 4xx answers with the reason; the transaction rolls back."""

    async def domain_error(request: Request, exc: Exception) -> JSONResponse:
        return domain_answer(exc)

    async def value_error(request: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL text cannot hold NUL: the driver refuses it when the query is sent.
        if NUL_REFUSED in str(exc):
            return JSONResponse({"detail": "text may not contain NUL characters"}, 422)
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": validation_problems(exc.errors())}, status_code=422)

    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        if not database_away(exc):
            log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
            return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            reason[0] if reason else type(exc).__name__,
        )
        return JSONResponse(
            {"detail": "the database is unavailable, try again shortly"},
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )

    app.add_exception_handler(DomainError, domain_error)
    for error in _DATABASE_DOWN:
        app.add_exception_handler(error, database_down)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(ValueError, value_error)


def domain_answer(exc: Exception) -> JSONResponse:
    """A domain error's answer: its class's status, its reason (and code, if it has one),
    its headers (Retry-After)."""
    assert isinstance(exc, DomainError)
    body = {"detail": str(exc)} if exc.code is None else {"detail": str(exc), "code": exc.code}
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


def validation_problems(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """What a 422 says of pydantic's errors: type, place and message of the first few, never
    the input (it may be large, personal, or NaN, which JSON cannot carry)."""
    return [
        {
            "type": error["type"],
            "loc": [_cut(part) if isinstance(part, str) else part for part in error["loc"]],
            "msg": _cut(str(error["msg"])),
        }
        for error in errors[:MAX_ERRORS_SHOWN]
    ]


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_ERROR_TEXT else text[: _MAX_ERROR_TEXT - 1] + "…"
