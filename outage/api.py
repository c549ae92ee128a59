"""Dependencies shared by every HTTP route."""

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from outage.db import session_scope


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed when the route returns without error."""
    with session_scope(request.app.state.sessions) as session:
        yield session
