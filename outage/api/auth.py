"""Bearer tokens for API clients, and who one is signed in as.

The staff pages sign in with a form and a session cookie instead (`outage.pages.sign_in`).
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from outage.auth import matrix, service
from outage.auth.enums import PrincipalKind, Role, SessionKind
from outage.settings import Settings
from outage.web.deps import SessionDep, SettingsDep, client_ip
from outage.web.principal import (
    PrincipalDep,
    require,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def login_policy(config: Settings, kind: SessionKind) -> service.LoginPolicy:
    return service.LoginPolicy(
        max_failures=config.login_max_failures,
        address_max_failures=config.login_address_max_failures,
        max_delay=config.login_max_delay_seconds,
        window=config.login_window_minutes,
        lifetime=config.session_hours if kind is SessionKind.COOKIE else config.token_hours,
    )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    """Seconds the token stays valid."""


class MeOut(BaseModel):
    name: str
    kind: PrincipalKind
    display_name: str | None
    roles: list[Role]
    scopes: list[str]
    crew_id: int | None
    permissions: list[str]
    """Every permission held; a restricted one is written `permission (restriction)`."""
    csrf_token: str | None
    """For a web session: the token its state-changing requests carry in `X-CSRF-Token`."""


@router.post(
    "/token",
    response_model=TokenOut,
    dependencies=[Depends(require("auth.login"))],
    responses={
        401: {"description": "Wrong username or password"},
        429: {"description": "Too many failures from this address: wait Retry-After seconds"},
    },
)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    config: SettingsDep,
) -> Response:
    """A bearer token for `Authorization: Bearer ...` (OAuth2 password grant form).

    Repeated failures of a username from one address (or of many from one address) make
    each further try from there wait longer, up to a cap (429 with Retry-After).
    """
    now = datetime.now(UTC)
    result = service.log_in(
        session,
        username=form.username,
        password=form.password,
        kind=SessionKind.BEARER,
        client_ip=client_ip(request),
        now=now,
        policy=login_policy(config, SessionKind.BEARER),
    )
    # Answers are returned, not raised, so that the attempt is stored in every case.
    if isinstance(result, service.Locked):
        return JSONResponse(
            {"detail": "too many failed sign-ins; try again later"},
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(result.retry_after_s)},
        )
    if isinstance(result, service.Refused):
        return JSONResponse(
            {"detail": "wrong username or password"},
            status_code=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    expires_in = int((result.expires_at - now).total_seconds())
    body = TokenOut(access_token=result.token, expires_in=expires_in)
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


@router.delete(
    "/token", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(require("auth.logout"))]
)
def revoke_token(principal: PrincipalDep, session: SessionDep) -> Response:
    """End the bearer token this request carries (nothing to do without one)."""
    if principal.session_kind is SessionKind.BEARER and principal.session_id is not None:
        service.end_session(session, session_id=principal.session_id, now=datetime.now(UTC))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut, dependencies=[Depends(require("auth.me"))])
def me(principal: PrincipalDep) -> MeOut:
    """Who the request is signed in as, and what it may do."""
    held = []
    for permission in matrix.PERMISSIONS:
        grant = principal.grant(permission)
        if grant is not None:
            held.append(
                f"{permission} ({grant.restriction.name})" if grant.restriction else permission
            )
    return MeOut(
        name=principal.name,
        kind=principal.kind,
        display_name=principal.display_name,
        roles=sorted(principal.roles),
        scopes=sorted(principal.scopes),
        crew_id=principal.crew_id,
        permissions=held,
        csrf_token=principal.csrf_token if principal.via_cookie else None,
    )
