"""Supervision of care's work: late requests warned of and escalated, each once; every
team's overdue work and poor ratings; and what a customer may read of their request's
history.

The escalation job (`escalate`) is given the time (`now`): before a request's due time,
once `care_warn_share` of its SLA time has gone, its owner is warned; past due it passes
to its team's supervisor. Each is a trail entry written once per request (the request's
`warned_at` and `escalated_at` say it was done), with the request row locked and skipped
when another transaction holds it.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from outage.care.enums import RequestType, TrailKind
from outage.care.lifecycle import CLOSED, OPEN
from outage.care.models import CareTeam, ServiceRequest, ServiceRequestEvent
from outage.care.owners import SYSTEM, tell_handover
from outage.care.schemas import (
    HistoryEntryOut,
    HistoryStep,
    LowRatingOut,
    OverdueOut,
    RequestHistoryOut,
    TeamViewOut,
)
from outage.settings import Settings

log = logging.getLogger(__name__)

BATCH = 200
"""Requests warned or escalated per run at most; the next run takes the rest."""

LOW_RATING = 2
"""A rating at or below this is a poor one, shown on its team's view."""


def _trail(
    found: ServiceRequest, kind: TrailKind, team: str, moment: datetime
) -> ServiceRequestEvent:
    return ServiceRequestEvent(
        request_id=found.id,
        at=moment,
        actor=SYSTEM,
        from_state=found.state,
        to_state=found.state,
        kind=kind,
        owner_team=team,
        owner_agent=found.owner_agent,
    )


def escalate(session: Session, settings: Settings, now: datetime) -> tuple[int, int]:
    """Warn the owners of open requests near their due time and escalate those past it;
    how many of each. Each request is worked in a savepoint of its own: one that fails is
    logged and tried again on the next run, and the others go on. A team without a
    supervisor has nobody to escalate to: its late requests wait for one (logged)."""
    is_open = ServiceRequest.state.in_(sorted(OPEN))
    due_soon = (
        ServiceRequest.received_at
        + (ServiceRequest.due_at - ServiceRequest.received_at) * settings.care_warn_share
        <= now
    )
    to_warn = session.execute(
        select(ServiceRequest, CareTeam)
        .join(CareTeam, CareTeam.id == ServiceRequest.owner_team_id)
        .where(
            is_open,
            ServiceRequest.warned_at.is_(None),
            ServiceRequest.escalated_at.is_(None),
            ~past_due(now),
            due_soon,
        )
        .order_by(ServiceRequest.due_at, ServiceRequest.id)
        .limit(BATCH)
        .with_for_update(of=ServiceRequest, skip_locked=True)
    ).all()
    warned = sum(
        _alone(session, found, partial(_warn, session, found, team, now)) for found, team in to_warn
    )
    to_escalate = session.execute(
        select(ServiceRequest, CareTeam)
        .join(CareTeam, CareTeam.id == ServiceRequest.owner_team_id)
        .where(
            is_open,
            ServiceRequest.escalated_at.is_(None),
            past_due(now),
            CareTeam.supervisor.is_not(None),
        )
        .order_by(ServiceRequest.due_at, ServiceRequest.id)
        .limit(BATCH)
        .with_for_update(of=ServiceRequest, skip_locked=True)
    ).all()
    escalated = sum(
        _alone(session, found, partial(_escalate, session, settings, found, team, now))
        for found, team in to_escalate
    )
    _log_unsupervised(session, now)
    return warned, escalated


def past_due(now: datetime) -> ColumnElement[bool]:
    """Breached: past its due time (at the due time itself it is not yet, as
    `outage.care.sla` has it)."""
    return ServiceRequest.due_at < now


def _alone(session: Session, found: ServiceRequest, work: Callable[[], None]) -> bool:
    try:
        with session.begin_nested():
            work()
    except Exception:  # one request's failure must not hold up the others
        log.exception("supervising request %s failed; the next run tries again", found.ticket)
        return False
    return True


def _warn(session: Session, found: ServiceRequest, team: CareTeam, now: datetime) -> None:
    session.add(_trail(found, TrailKind.WARNED, team.name, now))
    found.warned_at = now
    session.flush()


def _escalate(
    session: Session, settings: Settings, found: ServiceRequest, team: CareTeam, now: datetime
) -> None:
    found.owner_agent = team.supervisor
    trail = _trail(found, TrailKind.ESCALATED, team.name, now)
    session.add(trail)
    found.escalated_at = now
    if settings.care_tell_handover:
        tell_handover(session, found, trail, team.name, escalated=True)
    session.flush()


def _log_unsupervised(session: Session, now: datetime) -> None:
    waiting = session.execute(
        select(CareTeam.name, func.count())
        .join(ServiceRequest, ServiceRequest.owner_team_id == CareTeam.id)
        .where(
            ServiceRequest.state.in_(sorted(OPEN)),
            ServiceRequest.escalated_at.is_(None),
            past_due(now),
            CareTeam.supervisor.is_(None),
        )
        .group_by(CareTeam.name)
    ).all()
    for name, count in waiting:
        log.warning(
            "care team %s has %d late requests and no supervisor to escalate to", name, count
        )


# --- every team's view ----------------------------------------------------------------


def team_views(
    session: Session, *, since: datetime, now: datetime, limit: int = 50
) -> list[TeamViewOut]:
    """Per team, by name: how many of its open requests are past due, the most overdue
    of them (at most `limit`), and the requests it owns rated 2 or less since `since`
    (newest first, at most `limit`)."""
    late = and_(ServiceRequest.state.in_(sorted(OPEN)), past_due(now))
    counts: dict[int, int] = {
        team_id: count
        for team_id, count in session.execute(
            select(ServiceRequest.owner_team_id, func.count())
            .where(late)
            .group_by(ServiceRequest.owner_team_id)
        )
    }
    views = {
        team.id: TeamViewOut(
            team=team.name,
            supervisor=team.supervisor,
            overdue_count=counts.get(team.id, 0),
            overdue=[],
            low_ratings=[],
        )
        for team in session.scalars(select(CareTeam).order_by(CareTeam.name))
    }
    ranked = (
        select(
            ServiceRequest.owner_team_id,
            ServiceRequest.ticket,
            ServiceRequest.request_type,
            ServiceRequest.state,
            ServiceRequest.due_at,
            ServiceRequest.owner_agent,
            ServiceRequest.escalated_at,
            func.row_number()
            .over(
                partition_by=ServiceRequest.owner_team_id,
                order_by=(ServiceRequest.due_at, ServiceRequest.id),
            )
            .label("rank"),
        )
        .where(late)
        .subquery()
    )
    overdue = session.execute(
        select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.owner_team_id, ranked.c.rank)
    )
    for row in overdue:
        views[row.owner_team_id].overdue.append(
            OverdueOut(
                ticket=row.ticket,
                type=row.request_type,
                state=row.state,
                due_at=row.due_at,
                agent=row.owner_agent,
                escalated=row.escalated_at is not None,
            )
        )
    low = session.execute(
        select(
            ServiceRequest.owner_team_id,
            ServiceRequest.ticket,
            ServiceRequest.request_type,
            ServiceRequest.rating,
            ServiceRequest.rating_comment,
            ServiceRequest.rated_at,
        )
        .where(ServiceRequest.rating <= LOW_RATING, ServiceRequest.rated_at >= since)
        .order_by(ServiceRequest.rated_at.desc(), ServiceRequest.id.desc())
    )
    for team_id, ticket, kind, rating, comment, rated_at in low:
        view = views[team_id]
        if len(view.low_ratings) < limit:
            view.low_ratings.append(
                LowRatingOut(
                    ticket=ticket,
                    type=RequestType(kind),
                    rating=rating,
                    comment=comment,
                    rated_at=rated_at,
                )
            )
    return list(views.values())


# --- the customer's history ------------------------------------------------------------


def history(session: Session, ticket: str) -> RequestHistoryOut | None:
    """What happened to the request, in order: received, given to a team (its name),
    each change of state, passed to a supervisor, closed, rated. Warnings are staff's
    own business; notes and staff names are never shown."""
    found = session.scalar(
        select(ServiceRequest).where(ServiceRequest.ticket == ticket.strip().upper())
    )
    if found is None:
        return None
    entries: list[HistoryEntryOut] = []
    team: str | None = None
    trail = session.scalars(
        select(ServiceRequestEvent)
        .where(ServiceRequestEvent.request_id == found.id)
        .order_by(ServiceRequestEvent.at, ServiceRequestEvent.id)
    )
    for row in trail:
        if row.kind is TrailKind.ASSIGNED:
            if row.owner_team != team:
                team = row.owner_team
                entries.append(HistoryEntryOut(at=row.at, step=HistoryStep.ASSIGNED, team=team))
        elif row.kind is TrailKind.ESCALATED:
            entries.append(
                HistoryEntryOut(at=row.at, step=HistoryStep.ESCALATED, team=row.owner_team)
            )
        elif row.kind is None:
            step = (
                HistoryStep.RECEIVED
                if row.from_state is None
                else HistoryStep.CLOSED
                if row.to_state in CLOSED
                else HistoryStep.STATE
            )
            entries.append(HistoryEntryOut(at=row.at, step=step, state=row.to_state))
            if row.owner_team is not None and row.owner_team != team:  # the arrival's team
                team = row.owner_team
                entries.append(HistoryEntryOut(at=row.at, step=HistoryStep.ASSIGNED, team=team))
    if found.rated_at is not None:
        entries.append(
            HistoryEntryOut(at=found.rated_at, step=HistoryStep.RATED, rating=found.rating)
        )
    return RequestHistoryOut(ticket=found.ticket, entries=entries)
