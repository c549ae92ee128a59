"""What every HTTP route shares: the session dependency, error mapping and body limits."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from outage.db import session_scope
from outage.intake.geocode import OutsideTerritory
from outage.intake.limits import RateLimited
from outage.intake.service import IdempotencyConflict, NotInQueue, UnknownReference


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed when the route returns without error."""
    with session_scope(request.app.state.sessions) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""Committed before the response is sent, so a 2xx always means the data is stored."""


_CLIENT_ERRORS: dict[type[Exception], int] = {
    OutsideTerritory: 422,
    IdempotencyConflict: 422,
    UnknownReference: 422,
    NotInQueue: 409,
}


def install_error_handlers(app: FastAPI) -> None:
    """Domain errors become 4xx answers with the reason; the transaction rolls back."""

    async def client_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_CLIENT_ERRORS[type(exc)])

    async def rate_limited(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RateLimited)
        return JSONResponse(
            {"detail": str(exc)},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after_s)},
        )

    for error in _CLIENT_ERRORS:
        app.add_exception_handler(error, client_error)
    app.add_exception_handler(RateLimited, rate_limited)


class BodySizeLimit:
    """Refuse over-large requests before reading them (413), by their declared length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
                response = JSONResponse(
                    {"detail": f"request body larger than {self.max_bytes} bytes"},
                    status_code=413,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
