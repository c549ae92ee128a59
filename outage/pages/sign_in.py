"""Signing in and out of the staff pages: the login form and the session cookie.

The login form is guarded against login CSRF by a double-submit token: a cookie set with
the form and the same value in a hidden field. API clients take bearer tokens instead
(`outage.api.auth`).
"""

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict

from outage import i18n
from outage.api.auth import login_policy
from outage.auth import service
from outage.auth.enums import Role, SessionKind
from outage.i18n import Language
from outage.pages.staff import staff_page
from outage.settings import Settings
from outage.web.deps import SessionDep, SettingsDep, client_ip
from outage.web.principal import (
    SESSION_COOKIE,
    LoginRequired,
    PageForbidden,
    Principal,
    login_url,
    require,
)
from outage.web.rendering import request_language

router = APIRouter(include_in_schema=False, tags=["auth pages"])

LOGIN_CSRF_COOKIE = "outage_login_csrf"

LANDING: dict[Role, str] = {
    Role.AGENT: "/agent",
    Role.SUPERVISOR: "/supervisor",
    Role.ADMIN: "/supervisor",
    Role.DISPATCHER: "/dispatch",
    Role.CREW: "/crew",
}
"""Where a staff member lands after signing in, when no page asked for the sign-in."""


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


def _login_page(
    request: Request,
    config: Settings,
    language: Language,
    *,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = staff_page(
        "login.html",
        language,
        {"login_csrf": token, "next_url": next_url, "username": username[:64], "error": error},
        path=request.url.path,
        params={},
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


@router.get("/login", response_class=HTMLResponse, dependencies=[Depends(require("auth.login"))])
def login_form(
    request: Request, config: SettingsDep, next: str | None = None, lang: str | None = None
) -> HTMLResponse:
    """The sign-in form for staff; `next` is the page to go back to."""
    language = request_language(request, lang)
    return _login_page(request, config, language, next_url=_local(next) or "")


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(require("auth.login"))])
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
        policy=login_policy(config, SessionKind.COOKIE),
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


@router.post("/logout", dependencies=[Depends(require("auth.logout"))])
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
            "forbidden.html",
            language,
            {"reason": exc.reason},
            path=request.url.path,
            params={},
            staff=caller if isinstance(caller, Principal) else None,
            status_code=status.HTTP_403_FORBIDDEN,
        )

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageForbidden, page_forbidden)
