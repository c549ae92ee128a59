"""The request-scoped dependencies routes and pages declare, with their `Annotated`
aliases: the session, the app's settings and limits, the caller's address, the live network."""

import ipaddress
import threading
from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from anyio import CancelScope
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from outage.db import session_scope
from outage.grid.live import LiveTopology
from outage.intake.limits import IntakeLimits
from outage.replica import ReadSessions
from outage.settings import Settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed when the route returns without error.

    Opening a session does no I/O, so it happens here; only its end, which talks to the
    database, goes to the thread pool: one hop per request instead of two.
    """
    session: Session = request.app.state.sessions()
    try:
        yield session
    except BaseException:
        with CancelScope(shield=True):  # the connection goes back even if the client left
            await run_in_threadpool(session.close)
        raise
    with CancelScope(shield=True):
        await run_in_threadpool(_commit_and_close, session)


def _commit_and_close(session: Session) -> None:
    with session:
        session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""Committed before the response is sent, so a 2xx always means the data is stored."""

Done = TypeVar("Done")


async def in_transaction(request: Request, work: Callable[[Session], Done]) -> Done:
    """`work` in one transaction, committed before this returns, in one trip to the thread
    pool: for an async route on a hot path, where a plain route taking `SessionDep` pays
    two (the route, then the commit). The thread finishes even if the client leaves."""

    def run() -> Done:
        with session_scope(request.app.state.sessions) as session:
            return work(session)

    return await run_in_threadpool(run)


async def read_sessions(request: Request) -> sessionmaker[Session]:
    """The sessions public reads use: the read replica's while it is within its lag bound,
    else the primary's (`outage.replica`). Looks at the lag in a thread when it is due."""
    chooser: ReadSessions = request.app.state.read_sessions
    chosen = chooser.fresh()
    if chosen is None:
        chosen = await run_in_threadpool(chooser.choose)
    return chosen


async def get_read_session(
    sessions: Annotated[sessionmaker[Session], Depends(read_sessions)],
) -> AsyncIterator[Session]:
    """A session for a route that only reads, on the read replica when it may be used:
    never committed (nothing to commit), so a write by mistake is lost on the primary and
    refused on the standby."""
    session = sessions()
    try:
        yield session
    finally:
        with CancelScope(shield=True):
            await run_in_threadpool(session.close)


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
"""Public, read-only routes: may read from the read replica, up to `replica_max_lag_s`
behind the primary."""
ReadSessionsDep = Annotated[sessionmaker[Session], Depends(read_sessions)]
"""The read sessions themselves, for work done later in a thread (a cache's refill)."""

MAX_OFFSET = 10_000_000
"""Paging beyond this is refused (422) rather than overflowing the database's integers."""


# Dependencies that only read app state are async: a plain `def` costs a hop to the
# thread pool and back on every request.
async def settings(request: Request) -> Settings:
    configured: Settings = request.app.state.settings
    return configured


async def intake_limits(request: Request) -> IntakeLimits:
    limits: IntakeLimits = request.app.state.intake_limits
    return limits


SettingsDep = Annotated[Settings, Depends(settings)]
LimitsDep = Annotated[IntakeLimits, Depends(intake_limits)]


MAX_ADDRESS_LENGTH = 45
"""The longest address a client-address column (String(45)) holds."""


_MADE_ONCE = threading.Lock()

Made = TypeVar("Made")


def made_once(request: Request, name: str, make: Callable[[], Made]) -> Made:
    """The app's `name` object (a page's caches), made by `make` on first use: requests
    arriving together make one."""
    made = getattr(request.app.state, name, None)
    if made is None:
        with _MADE_ONCE:
            made = getattr(request.app.state, name, None)
            if made is None:
                made = make()
                setattr(request.app.state, name, made)
    return made


def client_ip(request: Request) -> str | None:
    """The address per-address limits count and the audit records: the socket's, or the
    one a trusted proxy (`trusted_proxies`, applied by `outage serve`'s uvicorn) forwarded.

    Written one way (an IPv4-mapped IPv6 address as IPv4) so one caller is one key, and
    cut to fit the columns that store it."""
    if request.client is None:
        return None
    host = request.client.host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:MAX_ADDRESS_LENGTH]
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)[:MAX_ADDRESS_LENGTH]


def live_topology(request: Request) -> LiveTopology:
    topology: LiveTopology = request.app.state.topology
    return topology


TopologyDep = Annotated[LiveTopology, Depends(live_topology)]
