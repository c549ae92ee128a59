"""Signing in and out: bearer tokens for API clients, the login page and session cookie for
the staff pages, and who one is signed in as.

The login form is guarded against login CSRF by a double-submit token: a cookie set with
the form and the same value in a hidden field.
"""

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict

from outage.auth import matrix, service
from outage.auth.enums import PrincipalKind, Role, SessionKind
from outage.auth.principal import (
    SESSION_COOKIE,
    LoginRequired,
    PageForbidden,
    Principal,
    PrincipalDep,
    login_url,
    require,
)
from outage.pages import i18n
from outage.pages.routes import HERE, request_language
from outage.settings import Settings
from outage.web.deps import SessionDep, client_ip

LOGIN_CSRF_COOKIE = "outage_login_csrf"

LANDING: dict[Role, str] = {
    Role.AGENT: "/agent",
    Role.SUPERVISOR: "/agent",
    Role.ADMIN: "/agent",
    Role.DISPATCHER: "/agent/queue",
    Role.CREW: "/api/v1/incidents?status=active",
}
"""Where a staff member lands after signing in, when no page asked for the sign-in."""

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

api = APIRouter(prefix="/api/v1/auth", tags=["auth"])
pages = APIRouter(include_in_schema=False, tags=["auth pages"])


def _settings(request: Request) -> Settings:
    configured: Settings = request.app.state.settings
    return configured


SettingsDep = Annotated[Settings, Depends(_settings)]


def _policy(config: Settings, kind: SessionKind) -> service.LoginPolicy:
    hours = config.session_hours if kind is SessionKind.COOKIE else config.token_hours
    return service.LoginPolicy(
        max_failures=config.login_max_failures,
        address_max_failures=config.login_address_max_failures,
        max_delay=timedelta(seconds=config.login_max_delay_seconds),
        window=timedelta(minutes=config.login_window_minutes),
        lifetime=timedelta(hours=hours),
    )


# --- API clients -------------------------------------------------------------------------


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


@api.post(
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
        policy=_policy(config, SessionKind.BEARER),
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


@api.delete(
    "/token", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(require("auth.logout"))]
)
def revoke_token(principal: PrincipalDep, session: SessionDep) -> Response:
    """End the bearer token this request carries (nothing to do without one)."""
    if principal.session_kind is SessionKind.BEARER and principal.session_id is not None:
        service.end_session(session, session_id=principal.session_id, now=datetime.now(UTC))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@api.get("/me", response_model=MeOut, dependencies=[Depends(require("auth.me"))])
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


# --- the login page ----------------------------------------------------------------------


class LoginForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: str = ""
    password: str = ""
    next: str = ""
    lang: str = ""
    csrf_token: str = ""


def _local(next_url: str | None) -> str | None:
    """A path on this site to go back to; anything else (another host) is dropped."""
    if not next_url or not next_url.startswith("/") or next_url.startswith(("//", "/\\")):
        return None
    if any(c in next_url for c in "\r\n\t\\") or len(next_url) > 2000:
        return None
    return next_url


def _secure(request: Request, config: Settings) -> bool:
    return (
        config.cookie_secure if config.cookie_secure is not None else request.url.scheme == "https"
    )


def staff_page(
    request: Request,
    template: str,
    language: str,
    context: Mapping[str, Any],
    *,
    staff: Principal | None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """A staff page outside the console (sign-in, refusals); never cached."""
    other = i18n.other_language(language)
    html = _templates.get_template(template).render(
        lang=language,
        t=i18n.strings(language),
        other_lang=other,
        other_t=i18n.strings(other),
        switch_url=f"{request.url.path}?lang={other}",
        staff=staff if staff is not None and staff.is_staff else None,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    return response


def _login_page(
    request: Request,
    config: Settings,
    language: str,
    *,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = staff_page(
        request,
        "login.html",
        language,
        {"login_csrf": token, "next_url": next_url, "username": username[:64], "error": error},
        staff=None,
        status_code=status_code,
    )
    response.headers.update(headers or {})
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_secure(request, config),
        path="/login",
    )
    return response


@pages.get("/login", response_class=HTMLResponse, dependencies=[Depends(require("auth.login"))])
def login_form(
    request: Request, config: SettingsDep, next: str | None = None, lang: str | None = None
) -> HTMLResponse:
    """The sign-in form for staff; `next` is the page to go back to."""
    language = request_language(request, lang)
    return _login_page(request, config, language, next_url=_local(next) or "")


@pages.post("/login", response_class=HTMLResponse, dependencies=[Depends(require("auth.login"))])
def log_in(
    request: Request,
    form: Annotated[LoginForm, Form()],
    session: SessionDep,
    config: SettingsDep,
) -> Response:
    """Check the password, set the session cookie, and go on to `next` (or one's landing)."""
    language = request_language(request, form.lang)
    t = i18n.strings(language)
    next_url = _local(form.next) or ""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(form.csrf_token.encode(), expected.encode()):
        return _login_page(
            request,
            config,
            language,
            next_url=next_url,
            username=form.username,
            error=t["login_expired"],
            status_code=status.HTTP_403_FORBIDDEN,
        )
    now = datetime.now(UTC)
    result = service.log_in(
        session,
        username=form.username,
        password=form.password,
        kind=SessionKind.COOKIE,
        client_ip=client_ip(request),
        now=now,
        policy=_policy(config, SessionKind.COOKIE),
    )
    if isinstance(result, service.Locked):
        return _login_page(
            request,
            config,
            language,
            next_url=next_url,
            username=form.username,
            error=t["login_locked"].format(seconds=result.retry_after_s),
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(result.retry_after_s)},
        )
    if isinstance(result, service.Refused):
        return _login_page(
            request,
            config,
            language,
            next_url=next_url,
            username=form.username,
            error=t["login_failed"],
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    target = next_url or LANDING[result.identity.role]
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=int((result.expires_at - now).total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request, config),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.post("/logout", dependencies=[Depends(require("auth.logout"))])
def log_out(request: Request, session: SessionDep, config: SettingsDep) -> Response:
    """End the web session the cookie names and go to the sign-in page.

    The CSRF token is not needed: a forged sign-out costs a sign-in, while a sign-out
    that left the session alive (a form without the token) would be worse.
    """
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.end_session_of_token(
            session, token=cookie, kind=SessionKind.COOKIE, now=datetime.now(UTC)
        )
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request, config)
    )
    return response


# --- refusals of staff pages -------------------------------------------------------------


def install_handlers(app: FastAPI) -> None:
    """Staff pages refuse in HTML: to the login page when signed out, a 403 page else."""

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(
            login_url(exc.next_url, exc.lang), status_code=status.HTTP_303_SEE_OTHER
        )

    async def page_forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        language = request_language(request, request.query_params.get("lang"))
        caller = getattr(request.state, "caller", None)
        return staff_page(
            request,
            "forbidden.html",
            language,
            {"reason": exc.reason},
            staff=caller if isinstance(caller, Principal) else None,
            status_code=status.HTTP_403_FORBIDDEN,
        )

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageForbidden, page_forbidden)
