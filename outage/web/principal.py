"""Who is calling, and the one dependency every route declares: `require("permission")`.

Credentials, first found wins: an `X-API-Key` header; `Authorization: Bearer` with a
staff token (or an API key); the web session cookie. Open311 routes also take the
`api_key` form field their specification defines. Bad or expired credentials count as
none: public routes serve them, guarded ones answer 401.

A request authenticated by the session cookie that changes state must carry the
session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`); without it a
guarded route answers 403 and a public one treats the caller as anonymous.
"""

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn
from urllib.parse import quote

import fastapi.routing
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, APIKeyHeader, OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from outage.auth import matrix, service
from outage.auth.enums import PrincipalKind, Role, Scope, SessionKind
from outage.errors import Forbidden

SESSION_COOKIE = "outage_session"
API_KEY_HEADER = "X-API-Key"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
OPEN311_KEY_FIELD = "api_key"
TOKEN_URL = "/api/v1/auth/token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Principal:
    """The caller: a staff member (roles, crew), an integration (scopes), or anonymous."""

    name: str
    kind: PrincipalKind
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[Scope] = frozenset()
    crew_id: int | None = None
    user_id: int | None = None
    session_id: int | None = None
    session_kind: SessionKind | None = None
    csrf_token: str | None = field(default=None, repr=False)
    display_name: str | None = None
    rejected_credentials: bool = False
    """Credentials were sent but are unknown, expired, revoked or of a disabled user."""

    @property
    def is_staff(self) -> bool:
        return self.kind is PrincipalKind.STAFF

    @property
    def via_cookie(self) -> bool:
        return self.session_kind is SessionKind.COOKIE

    def grant(self, permission: str) -> matrix.Grant | None:
        return matrix.grant(self.roles, self.scopes, permission)

    def may(self, permission: str) -> bool:
        """Holds the permission wholly (not only under a restriction)."""
        held = self.grant(permission)
        return held is not None and held.restriction is None


ANONYMOUS = Principal(name="anonymous", kind=PrincipalKind.ANONYMOUS)


def _from_staff(identity: service.StaffIdentity) -> Principal:
    return Principal(
        name=identity.username,
        kind=PrincipalKind.STAFF,
        roles=frozenset({identity.role}),
        crew_id=identity.crew_id,
        user_id=identity.user_id,
        session_id=identity.session_id,
        session_kind=identity.kind,
        csrf_token=identity.csrf_token,
        display_name=identity.display_name,
    )


def _from_key(identity: service.KeyIdentity) -> Principal:
    return Principal(
        name=f"key:{identity.name}", kind=PrincipalKind.API_KEY, scopes=identity.scopes
    )


# --- finding the caller ------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _lookup(
    request: Request, *, key: str | None, bearer: str | None, cookie: str | None
) -> Principal:
    now = datetime.now(UTC)
    with request.app.state.sessions() as session:
        if key:
            found_key = service.key_by_secret(session, key=key)
            return _from_key(found_key) if found_key else _rejected()
        if bearer:
            if bearer.startswith(service.KEY_PREFIX):
                found_key = service.key_by_secret(session, key=bearer)
                return _from_key(found_key) if found_key else _rejected()
            staff = service.staff_by_token(session, token=bearer, kind=SessionKind.BEARER, now=now)
            return _from_staff(staff) if staff else _rejected()
        assert cookie is not None
        staff = service.staff_by_token(session, token=cookie, kind=SessionKind.COOKIE, now=now)
        return _from_staff(staff) if staff else _rejected()


def _rejected() -> Principal:
    return replace(ANONYMOUS, rejected_credentials=True)


async def authenticate(request: Request) -> Principal:
    """The caller as the credentials say, looked up once per request."""
    cached = getattr(request.state, "caller", None)
    if isinstance(cached, Principal):
        return cached
    key = request.headers.get(API_KEY_HEADER)
    bearer = _bearer(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if key or bearer or cookie:
        principal = await run_in_threadpool(_lookup, request, key=key, bearer=bearer, cookie=cookie)
    else:
        principal = ANONYMOUS
    request.state.caller = principal
    return principal


async def _form_value(request: Request, name: str, *, strict: bool = False) -> str | None:
    """A field of a form body; a malformed body has none, or with `strict` is a 400."""
    if not request.headers.get("content-type", "").startswith(_FORM_TYPES):
        return None
    try:
        form = await request.form()
    except Exception as exc:
        if strict:
            raise HTTPException(400, "the form body is malformed") from exc
        return None
    value = form.get(name)
    return value if isinstance(value, str) else None


async def csrf_ok(request: Request, principal: Principal) -> bool:
    """Whether a state-changing request of a web session carries that session's token."""
    if request.method in SAFE_METHODS or not principal.via_cookie:
        return True
    expected = principal.csrf_token or ""
    given = request.headers.get(CSRF_HEADER) or await _form_value(request, CSRF_FIELD) or ""
    return bool(expected) and secrets.compare_digest(given.encode(), expected.encode())


# --- refusals ----------------------------------------------------------------------------


class NotAuthenticated(HTTPException):
    """401: no valid credentials for a route that needs them."""

    def __init__(self, detail: str = "sign in or send an API key") -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": "Bearer"})


class AccessDenied(Forbidden):
    """403: the caller is known but may not do this."""


class LoginRequired(Exception):
    """A staff page without a signed-in user: on to the login page, and back after it."""

    def __init__(self, next_url: str, lang: str | None = None) -> None:
        super().__init__(next_url)
        self.next_url = next_url
        self.lang = lang


class PageForbidden(Exception):
    """A staff page the signed-in user may not see (an HTML 403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def login_url(next_url: str, lang: str | None = None) -> str:
    """The login page, back to `next_url` after it, in the language the page was asked in."""
    url = f"/login?next={quote(next_url, safe='')}"
    return f"{url}&lang={quote(lang[:8], safe='')}" if lang else url


# --- the dependency ----------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """What one route declares: its permission, and how it refuses."""

    permission: str
    page: bool = False
    """A staff page: anonymous callers go to the login page, refusals are HTML."""
    open311: bool = False
    """Open311: the key may come in the `api_key` form field; every refusal is 403."""


_REQUIREMENTS: dict[Callable[..., Any], Requirement] = {}

_oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)


def _credentials(
    _token: Annotated[str | None, Depends(_oauth2)],
    _key: Annotated[str | None, Depends(_api_key)],
    _session: Annotated[str | None, Depends(_cookie)],
) -> None:
    """Only to describe the accepted credentials in the OpenAPI document."""


async def _enforce(request: Request, requirement: Requirement) -> Principal:
    permission = requirement.permission
    principal = await authenticate(request)
    csrf_failed = not await csrf_ok(request, principal)
    if csrf_failed:
        principal = ANONYMOUS
    if requirement.open311 and principal.kind is PrincipalKind.ANONYMOUS:
        key = await _form_value(request, OPEN311_KEY_FIELD, strict=True)
        if key:
            principal = await run_in_threadpool(_lookup, request, key=key, bearer=None, cookie=None)
    held = principal.grant(permission)
    if held is None:
        _refuse(request, requirement, principal, csrf_failed=csrf_failed)
    request.state.principal = principal
    request.state.permission = permission
    return principal


def _refuse(
    request: Request, requirement: Requirement, principal: Principal, *, csrf_failed: bool
) -> NoReturn:
    anonymous = principal.kind is PrincipalKind.ANONYMOUS
    if csrf_failed:
        reason = "the form's CSRF token is missing or wrong; reload the page and try again"
    elif anonymous:
        reason = (
            "credentials are invalid, expired or revoked"
            if principal.rejected_credentials
            else "sign in or send an API key"
        )
    else:
        reason = f"{principal.name} may not do this (needs {requirement.permission})"
    if requirement.open311:
        raise AccessDenied("api_key is missing or not valid" if anonymous else reason)
    if requirement.page:
        if anonymous and not csrf_failed:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            back = target if request.method in SAFE_METHODS else request.url.path
            raise LoginRequired(back, request.query_params.get("lang"))
        raise PageForbidden(reason)
    if anonymous and not csrf_failed:
        raise NotAuthenticated(reason)
    raise AccessDenied(reason)


def require(
    permission: str, *, page: bool = False, open311: bool = False
) -> Callable[..., Awaitable[Principal]]:
    """The dependency that lets a route through only for holders of `permission`.

    Put it in the route's (or router's) `dependencies`; the route may then take the
    caller with `PrincipalDep`.
    """
    requirement = Requirement(matrix.check_known(permission), page=page, open311=open311)
    dependency: Callable[..., Awaitable[Principal]]
    if permission in matrix.PUBLIC:

        async def public(request: Request) -> Principal:
            return await _enforce(request, requirement)

        dependency = public
    else:

        async def guarded(request: Request, _: None = Depends(_credentials)) -> Principal:
            return await _enforce(request, requirement)

        dependency = guarded
    _REQUIREMENTS[dependency] = requirement
    return dependency


def requirement_of(route: Any) -> list[Requirement]:
    """The requirements an API route declares (exactly one, for a well-formed route)."""
    return [
        _REQUIREMENTS[d.call]
        for d in route.dependant.dependencies
        if d.call is not None and d.call in _REQUIREMENTS
    ]


def served_routes(app: FastAPI) -> list[tuple[Any, bool]]:
    """Every route as served (path with its routers' prefixes, dependencies with their
    routers'), each with whether it is an API route."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # older FastAPI copies included routes into app.routes
        return [(route, isinstance(route, APIRoute)) for route in app.routes]
    return [(c, isinstance(c.original_route, APIRoute)) for c in contexts(app.routes)]


def route_rules(app: FastAPI) -> list[matrix.RouteRule]:
    """Every API route of the app with the permission it declares."""
    rules = []
    for route, is_api in served_routes(app):
        if is_api:
            methods = tuple(sorted(set(route.methods or ()) - {"HEAD"}))
            for requirement in requirement_of(route):
                rules.append(matrix.RouteRule(methods, route.path, requirement.permission))
    return rules


async def current_principal(request: Request) -> Principal:
    """The caller `require` let through (it runs first: route dependencies come before
    parameters). Async: it only reads the request, and a plain `def` would cost a hop to
    the thread pool and back on every request."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise RuntimeError("the route declares no require(...) dependency")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
