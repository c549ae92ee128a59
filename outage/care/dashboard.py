"""The supervisor's view of customer care: SLA compliance per type, open work by age,
satisfaction, and the requests past due. Read-only aggregates over a window."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from outage.care import sla
from outage.care.enums import RequestType
from outage.care.lifecycle import OPEN
from outage.care.models import ServiceRequest
from outage.care.schemas import RequestOut
from outage.care.service import breached

RECENT_COMMENTS = 10


@dataclass(frozen=True)
class TypeCompliance:
    type: RequestType
    closed: int
    """Closed within the window."""
    met: int
    """Of those, closed by their due time."""
    open: int
    open_breached: int
    """Open now and past due."""

    @property
    def share(self) -> float | None:
        return sla.compliance(self.met, self.closed)


@dataclass(frozen=True)
class Comment:
    ticket: str
    type: RequestType
    rating: int
    comment: str
    rated_at: datetime


@dataclass(frozen=True)
class Satisfaction:
    count: int
    mean: float | None
    distribution: tuple[int, ...]
    """How many ratings of 1, 2, 3, 4 and 5."""
    recent: tuple[Comment, ...]
    """The newest ratings with a comment (customer text: escape it)."""


@dataclass(frozen=True)
class CareSummary:
    since: datetime
    now: datetime
    compliance: tuple[TypeCompliance, ...]
    """Every type, in the order of `RequestType`."""
    ages: tuple[tuple[sla.AgeBucket, int], ...]
    satisfaction: Satisfaction
    breached: tuple[RequestOut, ...]


def _within(
    column: InstrumentedAttribute[datetime | None], since: datetime, until: datetime | None
) -> ColumnElement[bool]:
    """`column` in [since, until), or since `since` without `until`."""
    return column >= since if until is None else and_(column >= since, column < until)


def sla_compliance(
    session: Session, *, since: datetime, now: datetime, until: datetime | None = None
) -> list[TypeCompliance]:
    """Per type: requests closed since `since` (and before `until`, if given) and how many
    of them in time; open and breached now."""
    is_open = ServiceRequest.state.in_(sorted(OPEN))
    closed_in_window = _within(ServiceRequest.closed_at, since, until)
    rows = session.execute(
        select(
            ServiceRequest.request_type,
            func.count().filter(closed_in_window),
            func.count().filter(
                and_(closed_in_window, ServiceRequest.closed_at <= ServiceRequest.due_at)
            ),
            func.count().filter(is_open),
            func.count().filter(and_(is_open, ServiceRequest.due_at < now)),
        )
        .where(is_open | closed_in_window)
        .group_by(ServiceRequest.request_type)
    )
    found = {RequestType(t): (c, m, o, b) for t, c, m, o, b in rows}
    return [TypeCompliance(t, *found.get(t, (0, 0, 0, 0))) for t in RequestType]


def open_ages(session: Session, *, now: datetime) -> list[tuple[sla.AgeBucket, int]]:
    received = session.scalars(
        select(ServiceRequest.received_at).where(ServiceRequest.state.in_(sorted(OPEN)))
    )
    return sla.age_histogram(received, now)


def satisfaction(
    session: Session, *, since: datetime, until: datetime | None = None
) -> Satisfaction:
    rated = _within(ServiceRequest.rated_at, since, until)
    by_rating = {
        score: n
        for score, n in session.execute(
            select(ServiceRequest.rating, func.count()).where(rated).group_by(ServiceRequest.rating)
        )
    }
    distribution = tuple(int(by_rating.get(score, 0)) for score in range(1, 6))
    total = sum(distribution)
    mean = (
        sum(score * n for score, n in enumerate(distribution, start=1)) / total if total else None
    )
    recent = session.execute(
        select(
            ServiceRequest.ticket,
            ServiceRequest.request_type,
            ServiceRequest.rating,
            ServiceRequest.rating_comment,
            ServiceRequest.rated_at,
        )
        .where(rated, ServiceRequest.rating_comment.is_not(None))
        .order_by(ServiceRequest.rated_at.desc(), ServiceRequest.id.desc())
        .limit(RECENT_COMMENTS)
    )
    return Satisfaction(
        count=total,
        mean=mean,
        distribution=distribution,
        recent=tuple(
            Comment(ticket, RequestType(kind), rating, comment, rated_at)
            for ticket, kind, rating, comment, rated_at in recent
        ),
    )


def care_summary(
    session: Session, *, since: datetime, now: datetime, breached_limit: int = 50
) -> CareSummary:
    return CareSummary(
        since=since,
        now=now,
        compliance=tuple(sla_compliance(session, since=since, now=now)),
        ages=tuple(open_ages(session, now=now)),
        satisfaction=satisfaction(session, since=since),
        breached=tuple(breached(session, now=now, limit=breached_limit)),
    )
