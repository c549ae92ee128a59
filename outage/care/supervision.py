"""Supervision of care's work: late requests warned of and escalated, each once; every
team's overdue work and poor ratings; and what a customer may read of their request's
history.

The escalation job (`escalate`) is given the time (`now`): before a request's due time,
once `care_warn_share` of its SLA time has gone, its owner is warned; past due it passes
to its team's supervisor. Each is a trail entry written once per request (the request's
`warned_at` and `escalated_at` say it was done), with the request row locked and skipped
when another transaction holds it.
"""

from datetime import datetime

from sqlalchemy import select
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
    how many of each."""
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
            ServiceRequest.due_at > now,
            due_soon,
        )
        .order_by(ServiceRequest.due_at, ServiceRequest.id)
        .limit(BATCH)
        .with_for_update(of=ServiceRequest, skip_locked=True)
    ).all()
    for found, team in to_warn:
        session.add(_trail(found, TrailKind.WARNED, team.name, now))
        found.warned_at = now
    to_escalate = session.execute(
        select(ServiceRequest, CareTeam)
        .join(CareTeam, CareTeam.id == ServiceRequest.owner_team_id)
        .where(is_open, ServiceRequest.escalated_at.is_(None), ServiceRequest.due_at <= now)
        .order_by(ServiceRequest.due_at, ServiceRequest.id)
        .limit(BATCH)
        .with_for_update(of=ServiceRequest, skip_locked=True)
    ).all()
    for found, team in to_escalate:
        if team.supervisor is not None:
            found.owner_agent = team.supervisor
        trail = _trail(found, TrailKind.ESCALATED, team.name, now)
        session.add(trail)
        found.escalated_at = now
        if settings.care_tell_handover:
            tell_handover(session, found, trail, team.name, escalated=True)
    session.flush()
    return len(to_warn), len(to_escalate)


# --- every team's view ----------------------------------------------------------------


def team_views(
    session: Session, *, since: datetime, now: datetime, limit: int = 50
) -> list[TeamViewOut]:
    """Per team, by name: its open requests past due (the most overdue first, at most
    `limit`) and the requests it owns rated 2 or less since `since` (newest first)."""
    views = {
        team.id: TeamViewOut(team=team.name, supervisor=team.supervisor, overdue=[], low_ratings=[])
        for team in session.scalars(select(CareTeam).order_by(CareTeam.name))
    }
    overdue = session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.state.in_(sorted(OPEN)), ServiceRequest.due_at < now)
        .order_by(ServiceRequest.due_at, ServiceRequest.id)
    )
    for found in overdue:
        view = views[found.owner_team_id]
        if len(view.overdue) < limit:
            view.overdue.append(
                OverdueOut(
                    ticket=found.ticket,
                    type=found.request_type,
                    state=found.state,
                    due_at=found.due_at,
                    agent=found.owner_agent,
                    escalated=found.escalated_at is not None,
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
