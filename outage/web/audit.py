"""The audit log of staff actions: every state-changing request a staff member makes.

An ASGI middleware: once the response has gone out, a request that `require` let through
as a staff member, with a method that changes state and a status below 400, is written
to `audit_log` with the actor, the permission used, the path and the status. Incidents
keep their own, richer trail (`incident_events`) beside it.
"""

import logging

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outage.auth import service
from outage.db import session_scope
from outage.web.principal import SAFE_METHODS, Principal

log = logging.getLogger(__name__)


class AuditTrail:
    def __init__(self, app: ASGIApp, sessions: sessionmaker[Session]) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        answered: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        state = scope.get("state") or {}
        principal = state.get("principal")
        if not answered or answered[0] >= 400 or not isinstance(principal, Principal):
            return
        if not principal.is_staff:
            return
        client = scope.get("client")
        await run_in_threadpool(
            self._record,
            principal,
            str(state.get("permission", "")),
            scope["method"],
            scope["path"],
            answered[0],
            client[0][:45] if client else None,
        )

    def _record(
        self,
        principal: Principal,
        permission: str,
        method: str,
        path: str,
        status: int,
        client_ip: str | None,
    ) -> None:
        try:
            with session_scope(self.sessions) as session:
                service.record(
                    session,
                    actor=principal.name,
                    actor_kind=principal.kind,
                    action=permission,
                    method=method,
                    path=path,
                    status=status,
                    client_ip=client_ip,
                )
        except Exception:  # the change stands; the missing entry must be noticed
            log.exception(
                "could not write the audit entry of %s %s by %s", method, path, principal.name
            )
