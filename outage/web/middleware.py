"""The middleware every request passes: security headers on the answer, the body's size
limit and the checks of a JSON body."""

import math
from collections.abc import Iterator
from typing import Any

import pydantic_core
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outage.fields import BIGINT_MAX, BIGINT_MIN

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""Our own scripts, styles and images, map tiles from any HTTPS server, no inline script,
never framed."""

DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "img-src 'self' data: https:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
"""The interactive API pages (/docs, /redoc) load their viewer from its CDN with an inline
starter script; they show no data of their own."""

DOCS_PATHS = ("/docs", "/redoc")

_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Headers every response gets, unless the route set its own.

    Content-Security-Policy (docs pages get a looser one), nosniff, Referrer-Policy,
    X-Frame-Options for old browsers, HSTS over TLS, and `Cache-Control: no-store` for
    answers to signed-in callers (they may carry personal data).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = (
            DOCS_CONTENT_SECURITY_POLICY if path.startswith(DOCS_PATHS) else CONTENT_SECURITY_POLICY
        )

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [
                    (b"content-security-policy", policy.encode()),
                    *_SECURITY_HEADERS,
                ]
                if scope.get("scheme") == "https":
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                caller = (scope.get("state") or {}).get("caller")
                if getattr(caller, "kind", "anonymous") != "anonymous":
                    extra.append((b"cache-control", b"no-store"))
                headers.extend((name, value) for name, value in extra if name not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, add_headers)


# JSON request bodies are checked once, before any route parses them.
#
# The standard library's parser recurses (30,000 nested arrays raise RecursionError), takes
# `NaN`, `Infinity` and lone surrogates that neither PostgreSQL nor our JSON answers can
# hold, and a body of a thousand keys gets a validation error for each. Here a body is
# parsed without recursion (pydantic-core's parser stops at 200 levels), then its depth, its
# count of values, its numbers (finite; whole numbers within bigint) and its strings (no NUL)
# are checked; a refused body gets 422 with the reason and reaches no route. The byte
# limit (413) comes first, on the declared length and on the bytes actually read, chunked or
# not, so neither check ever holds more than the limit.

_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
"""Bodies parsed as forms; any other body is taken for JSON by some route."""


class JsonRefused(ValueError):
    """A JSON body too deep, too big or holding values we cannot store."""


def check_json(body: bytes, *, max_depth: int, max_items: int, values: bool = True) -> None:
    """Raise JsonRefused with the reason when the body is not JSON we take; `values=False`
    leaves the strings and numbers to the route, which checks each item of a batch alone."""
    try:
        value = pydantic_core.from_json(body, allow_inf_nan=False, cache_strings=False)
    except ValueError as exc:
        if "recursion limit" in str(exc):
            raise JsonRefused(f"JSON nested deeper than {max_depth} levels") from None
        # Also NaN, Infinity and lone surrogates (\ud800), which the standard parser takes.
        raise JsonRefused(f"invalid JSON: {exc}") from None
    for items, (depth, item) in enumerate(_walk(value), start=1):
        if depth > max_depth:
            raise JsonRefused(f"JSON nested deeper than {max_depth} levels")
        if items > max_items:
            raise JsonRefused(f"JSON with more than {max_items} values")
        if not values:
            continue
        if isinstance(item, str) and "\x00" in item:
            raise JsonRefused("text may not contain NUL characters")
        if isinstance(item, float) and not math.isfinite(item):
            raise JsonRefused("numbers must be finite")
        if isinstance(item, int) and not BIGINT_MIN <= item <= BIGINT_MAX:
            raise JsonRefused(f"whole numbers must be from {BIGINT_MIN} to {BIGINT_MAX}")


def _walk(value: Any) -> Iterator[tuple[int, Any]]:
    """Every value with its depth (the body is 1), object keys included, without recursion."""
    stack = [(1, value)]
    while stack:
        depth, item = stack.pop()
        yield depth, item
        if isinstance(item, dict):
            stack.extend((depth + 1, key) for key in item)
            stack.extend((depth + 1, member) for member in item.values())
        elif isinstance(item, list):
            stack.extend((depth + 1, member) for member in item)


class _TooLarge(HTTPException):
    """Raised into the app by `BodySizeLimit`'s receive once the body passes the limit; an
    HTTPException, so a route parsing a form answers it as 413 too."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body larger than {max_bytes} bytes")


class BodySizeLimit:
    """413 for a body larger than `max_bytes` (a multipart one, which may carry a photo:
    `multipart_bytes`; one to a route taking device events in bulk, `bulk_paths`:
    `bulk_bytes`): at once by its declared length, else as soon as the bytes read pass the
    limit (a chunked body declares none), whoever reads it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        multipart_bytes: int,
        bulk_bytes: int,
        bulk_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.multipart_bytes = multipart_bytes
        self.bulk_bytes = bulk_bytes
        self.bulk_paths = bulk_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        if scope["path"] in self.bulk_paths:
            limit = self.bulk_bytes
        else:
            limit = self.multipart_bytes if multipart else self.max_bytes
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        read = 0
        started = False

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            if read > limit:
                raise _TooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        detail = _TooLarge(limit).detail
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


class JsonLimits:
    """Check every non-form request body with `check_json` before the app sees it; a body
    to a route taking device events in bulk (`bulk_paths`) may hold `bulk_items` values,
    and its strings and numbers are left to the route: one event's NUL must not lose the
    others."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_depth: int,
        max_items: int,
        bulk_items: int,
        bulk_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.max_depth = max_depth
        self.max_items = max_items
        self.bulk_items = bulk_items
        self.bulk_paths = bulk_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        if content_type.startswith(_FORM_TYPES):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:  # bounded: BodySizeLimit, outside, stops a body past its limit
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                bulk = scope["path"] in self.bulk_paths
                check_json(
                    body,
                    max_depth=self.max_depth,
                    max_items=self.bulk_items if bulk else self.max_items,
                    values=not bulk,
                )
            except JsonRefused as exc:
                await JSONResponse({"detail": str(exc)}, status_code=422)(scope, receive, send)
                return
        replayed: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([replayed], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` that gives these messages first, then the client's (its disconnect)."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
