"""The supervisor's aggregates, exactly, on a database of their own."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from outage.care import dashboard, service
from outage.care.enums import RequestState, RequestType
from outage.care.schemas import RequestIn
from outage.db import session_factory, session_scope
from outage.settings import get_settings

S = RequestState
NOW = datetime.now(UTC)


@pytest.fixture
def empty(fresh_database_url: str) -> Iterator[Session]:
    with session_scope(session_factory(fresh_database_url)) as session:
        yield session


def _request(
    session: Session, kind: RequestType, *, hours_ago: float, path: tuple[RequestState, ...] = ()
) -> str:
    """A request received `hours_ago`, moved along `path` an hour after it arrived."""
    received = NOW - timedelta(hours=hours_ago)
    ticket = service.submit_request(
        session,
        RequestIn(type=kind, address="no such street 1"),
        settings=get_settings(),
        now=received,
    ).ticket
    for state in path:
        reason = "not ours" if state is S.REJECTED else None
        service.transition(
            session, ticket, to=state, reason=reason, actor="t", now=received + timedelta(hours=1)
        )
    return ticket


def test_compliance_counts_closed_in_time_and_open_past_due_per_type(empty: Session) -> None:
    billing = RequestType.BILLING_QUESTION  # 48 hours
    _request(empty, billing, hours_ago=10, path=(S.IN_PROGRESS, S.DONE))
    _request(empty, billing, hours_ago=20, path=(S.REJECTED,))
    late = _request(empty, billing, hours_ago=100, path=(S.IN_PROGRESS,))
    _request(empty, billing, hours_ago=5)
    service.transition(empty, late, to=S.DONE, reason=None, actor="t", now=NOW)
    _request(empty, billing, hours_ago=60)

    rows = {
        c.type: c for c in dashboard.sla_compliance(empty, since=NOW - timedelta(days=7), now=NOW)
    }
    assert set(rows) == set(RequestType)
    assert (rows[billing].closed, rows[billing].met) == (3, 2)
    assert rows[billing].share == pytest.approx(2 / 3)
    assert (rows[billing].open, rows[billing].open_breached) == (2, 1)
    assert rows[RequestType.NEW_CONNECTION].share is None


def test_open_work_by_age_and_satisfaction(empty: Session) -> None:
    kind = RequestType.SERVICE_FEEDBACK
    for hours in (1, 2, 30, 24 * 10):
        _request(empty, kind, hours_ago=hours)
    rated = [_request(empty, kind, hours_ago=3, path=(S.IN_PROGRESS, S.DONE)) for _ in range(3)]
    for ticket, (score, comment) in zip(
        rated, [(5, None), (2, "<b>slow</b>"), (4, "fine")], strict=True
    ):
        service.rate_request(empty, ticket, rating=score, comment=comment, now=NOW)

    ages = dict((bucket.key, n) for bucket, n in dashboard.open_ages(empty, now=NOW))
    assert ages == {"under_1d": 2, "1_3d": 1, "3_7d": 0, "7_30d": 1, "over_30d": 0}
    mood = dashboard.satisfaction(empty, since=NOW - timedelta(days=1))
    assert (mood.count, mood.distribution) == (3, (0, 1, 0, 1, 1))
    assert mood.mean == pytest.approx(11 / 3)
    assert [c.comment for c in mood.recent] == ["fine", "<b>slow</b>"], "newest first"
