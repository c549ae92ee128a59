"""Who owns a service request: care teams, their members and supervisor, the team a new
request goes to, and giving a request to another team or agent.

Staff are named by username, as text: care knows nothing of accounts (`outage.auth` sits
above it), so a route naming one checks first that the account exists. Every change of
owner is a trail entry (`TrailKind.ASSIGNED`); where `care_tell_handover` is set, the
requester is told the new team's name, never a person's.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage import clock
from outage.care.enums import RequestType, TrailKind
from outage.care.lifecycle import CLOSED
from outage.care.models import CareTeam, CareTeamMember, ServiceRequest, ServiceRequestEvent
from outage.errors import Conflict, Invalid
from outage.outbox.enums import EventKind
from outage.outbox.writer import write_event
from outage.settings import Settings

SYSTEM = "care-supervision"
"""The trail's actor of warnings, escalations and a new request's first owner."""


class UnknownTeam(Invalid, LookupError):
    """No care team has this name."""


class NotInTeam(Invalid, ValueError):
    """The agent named is neither a member nor the supervisor of the team."""


class RequestClosed(Conflict, ValueError):
    """A closed request has no owner to change."""


class SameOwner(Conflict, ValueError):
    """The request is with this owner already."""


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    supervisor: str | None
    members: tuple[str, ...]


def check_routing(by_type: Mapping[str, str]) -> None:
    """Refuse a routing of types there are none of (the settings hold plain names)."""
    unknown = sorted(set(by_type) - set(RequestType))
    if unknown:
        known = ", ".join(RequestType)
        raise ValueError(f"care_team_by_type names no request type {unknown}; the types: {known}")


def team_of(settings: Settings, request_type: RequestType) -> str:
    """The name of the team a new request of this type goes to."""
    return settings.care_team_by_type.get(request_type, settings.care_default_team)


def missing_teams(session: Session, settings: Settings) -> list[str]:
    """The teams the settings route requests to that do not exist (checked at start)."""
    named = {settings.care_default_team, *settings.care_team_by_type.values()}
    found = set(session.scalars(select(CareTeam.name).where(CareTeam.name.in_(sorted(named)))))
    return sorted(named - found)


def _team_named(session: Session, name: str) -> CareTeam:
    team = session.scalar(select(CareTeam).where(CareTeam.name == name.strip()))
    if team is None:
        known = ", ".join(session.scalars(select(CareTeam.name).order_by(CareTeam.name)))
        raise UnknownTeam(f"no care team {name!r}; the teams: {known or 'none'}")
    return team


def first_owner(session: Session, settings: Settings, request_type: RequestType) -> CareTeam:
    """The team a new request goes to: its type's, else the default team."""
    try:
        return _team_named(session, team_of(settings, request_type))
    except UnknownTeam:
        return _team_named(session, settings.care_default_team)


def members_of(session: Session, team_id: int) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(CareTeamMember.username)
            .where(CareTeamMember.team_id == team_id)
            .order_by(CareTeamMember.username)
        )
    )


def teams(session: Session) -> list[Team]:
    return [
        Team(team.id, team.name, team.supervisor, members_of(session, team.id))
        for team in session.scalars(select(CareTeam).order_by(CareTeam.name))
    ]


def save_team(
    session: Session,
    name: str,
    *,
    supervisor: str | None = None,
    members: list[str] | None = None,
) -> Team:
    """Create a team, or change its supervisor and add members (usernames, as given:
    the caller checks that the accounts exist)."""
    name = name.strip()
    if not name:
        raise Invalid("a team needs a name")
    team = session.scalar(select(CareTeam).where(CareTeam.name == name))
    if team is None:
        team = CareTeam(name=name)
        session.add(team)
    if supervisor is not None:
        team.supervisor = supervisor.strip().lower() or None
    session.flush()
    known = set(members_of(session, team.id))
    for username in members or []:
        username = username.strip().lower()
        if username and username not in known:
            session.add(CareTeamMember(team_id=team.id, username=username))
            known.add(username)
    session.flush()
    return Team(team.id, team.name, team.supervisor, members_of(session, team.id))


def remove_member(session: Session, name: str, username: str) -> bool:
    team = _team_named(session, name)
    member = session.scalar(
        select(CareTeamMember).where(
            CareTeamMember.team_id == team.id, CareTeamMember.username == username.strip().lower()
        )
    )
    if member is None:
        return False
    session.delete(member)
    return True


def tell_handover(
    session: Session,
    found: ServiceRequest,
    trail: ServiceRequestEvent,
    team: str,
    *,
    escalated: bool,
) -> None:
    """The requester is to hear that a team (by its name) now handles their request."""
    session.flush()
    details: dict[str, Any] = {
        "revision": trail.id,
        "ticket": found.ticket,
        "type": found.request_type.value,
        "state": found.state.value,
        "reason": None,
        "team": team,
        "escalated": escalated,
    }
    write_event(
        session,
        EventKind.REQUEST_UPDATE,
        service_request_id=found.id,
        device_id=None,
        details=details,
    )


def reassign(
    session: Session,
    found: ServiceRequest,
    *,
    team: str | None,
    agent: str | None,
    reason: str | None,
    actor: str,
    settings: Settings,
    now: datetime | None = None,
) -> None:
    """Give a (locked) open request to `team` (else its own) and `agent` of it (None: the
    team as a whole). The agent must be a member or the supervisor of the team."""
    if found.state in CLOSED:
        raise RequestClosed(
            f"request {found.ticket} is {found.state.value}: a closed request keeps its owner"
        )
    current = session.get_one(CareTeam, found.owner_team_id)
    target = _team_named(session, team) if team is not None else current
    username = agent.strip().lower() if agent else None
    if (
        username is not None
        and username != target.supervisor
        and username not in members_of(session, target.id)
    ):
        raise NotInTeam(
            f"{username!r} is not a member of team {target.name!r}: add them to it first, "
            "or name their own team"
        )
    if target.id == found.owner_team_id and username == found.owner_agent:
        raise SameOwner(f"request {found.ticket} is with that owner already")
    moment = now or clock.now()
    trail = ServiceRequestEvent(
        request_id=found.id,
        at=moment,
        actor=actor,
        from_state=found.state,
        to_state=found.state,
        note=(reason or "").strip() or None,
        kind=TrailKind.ASSIGNED,
        owner_team=target.name,
        owner_agent=username,
    )
    session.add(trail)
    moved = target.id != found.owner_team_id
    found.owner_team_id = target.id
    found.owner_agent = username
    if moved and settings.care_tell_handover:
        tell_handover(session, found, trail, target.name, escalated=False)
