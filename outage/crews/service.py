"""Crews: create, change and read them, take their positions, and hand them to the planner.

Every function takes the session and plain values and never commits: the caller owns
the transaction.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import model as dispatch
from dispatch.model import CrewStatus, Skill
from outage.auth.models import StaffUser
from outage.crews.models import Crew, CrewPosition, CrewShift
from outage.crews.schemas import (
    CrewIn,
    CrewOut,
    CrewPatch,
    HelpIn,
    HelpOut,
    MemberOut,
    Point,
    PositionAccepted,
    PositionIn,
    PositionOut,
    ShiftIn,
    ShiftOut,
)
from outage.errors import Conflict, Invalid, NotFound
from outage.incidents.models import Incident
from outage.moments import CLOCK_SKEW

OLDEST_POSITION = timedelta(days=1)
"""A position older than this is a phone's wrong clock or a queue gone stale: refused."""
PLANNING_HORIZON = timedelta(hours=12)
"""A crew whose shift starts within this is planned (its jobs wait for the shift)."""


class CrewNotFound(NotFound, LookupError):
    """No crew with that id."""


class CrewConflict(Conflict, ValueError):
    """The change clashes with another crew (a name taken)."""


class InvalidCrewValue(Invalid, ValueError):
    """A value that cannot be right (a position from the future)."""


def _point(point: Point) -> Any:
    return func.ST_SetSRID(func.ST_MakePoint(point.lon, point.lat), 4326)


def _load(session: Session, crew_id: int, *, lock: bool = False) -> Crew:
    query = select(Crew).where(Crew.id == crew_id)
    if lock:
        query = query.with_for_update()
    crew = session.scalars(query.execution_options(populate_existing=True)).first()
    if crew is None:
        raise CrewNotFound(f"no crew {crew_id}")
    return crew


def _replace_shifts(session: Session, crew_id: int, shifts: Sequence[ShiftIn]) -> None:
    session.execute(delete(CrewShift).where(CrewShift.crew_id == crew_id))
    session.add_all(
        CrewShift(crew_id=crew_id, starts_at=s.starts_at, ends_at=s.ends_at) for s in shifts
    )


def _flush_or_conflict(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        if "uq_crews_name" in str(exc.orig):
            raise CrewConflict(f"a crew named {name!r} exists already") from exc
        raise


def create_crew(session: Session, crew: CrewIn) -> int:
    """A new crew with its shifts; its id."""
    row = Crew(
        name=crew.name,
        skills=sorted(crew.skills),
        depot=_point(crew.depot),
        vehicle=crew.vehicle,
        status=crew.status,
        origin=crew.origin,
        organisation=crew.organisation,
        arrives_at=crew.arrives_at,
    )
    session.add(row)
    _flush_or_conflict(session, crew.name)
    _replace_shifts(session, row.id, crew.shifts)
    session.flush()
    return row.id


def update_crew(session: Session, crew_id: int, patch: CrewPatch) -> None:
    crew = _load(session, crew_id, lock=True)
    given = patch.model_fields_set
    if "name" in given and patch.name is not None:
        crew.name = patch.name
    if "skills" in given and patch.skills is not None:
        crew.skills = sorted(patch.skills)
    if "depot" in given and patch.depot is not None:
        crew.depot = _point(patch.depot)
    if "vehicle" in given:
        crew.vehicle = patch.vehicle
    if "status" in given and patch.status is not None:
        crew.status = patch.status
    if "origin" in given and patch.origin is not None:
        crew.origin = patch.origin
    for field in ("organisation", "arrives_at", "released_at"):
        if field in given:
            setattr(crew, field, getattr(patch, field))
    if crew.arrives_at and crew.released_at and crew.released_at <= crew.arrives_at:
        raise InvalidCrewValue("a crew is released after it arrives")
    _flush_or_conflict(session, crew.name)
    if "shifts" in given and patch.shifts is not None:
        _replace_shifts(session, crew_id, patch.shifts)
        session.flush()


def record_position(
    session: Session, crew_id: int, position: PositionIn, *, now: datetime
) -> PositionAccepted:
    """Keep the position in the crew's track; it becomes the crew's position unless a newer
    one arrived first (phones queue positions while out of reach)."""
    recorded = position.recorded_at or now
    if recorded > now + CLOCK_SKEW:
        raise InvalidCrewValue(f"recorded_at {recorded.isoformat()} is in the future")
    if recorded < now - OLDEST_POSITION:
        raise InvalidCrewValue(f"recorded_at {recorded.isoformat()} is more than a day old")
    crew = _load(session, crew_id, lock=True)
    geom = func.ST_SetSRID(func.ST_MakePoint(position.lon, position.lat), 4326)
    session.add(
        CrewPosition(crew_id=crew_id, geom=geom, accuracy_m=position.accuracy, recorded_at=recorded)
    )
    latest = crew.position_at is None or recorded >= crew.position_at
    if latest:
        crew.position = geom
        crew.position_accuracy_m = position.accuracy
        crew.position_at = recorded
        if position.status is not None:
            crew.status = position.status
    session.flush()
    return PositionAccepted(
        crew_id=crew_id,
        status=crew.status,
        position=PositionOut(
            lat=position.lat, lon=position.lon, accuracy=position.accuracy, recorded_at=recorded
        ),
        latest=latest,
    )


def ask_for_help(session: Session, crew_id: int, call: HelpIn, *, now: datetime) -> None:
    """Record the crew's call for help (a newer one replaces it) until a dispatcher clears it."""
    crew = _load(session, crew_id, lock=True)
    if call.incident_id is not None and not session.scalar(
        select(func.count()).select_from(Incident).where(Incident.id == call.incident_id)
    ):
        raise InvalidCrewValue(f"no incident {call.incident_id}")
    crew.help_requested_at = now
    crew.help_incident_id = call.incident_id
    crew.help_note = call.note
    session.flush()


def clear_help(session: Session, crew_id: int) -> None:
    crew = _load(session, crew_id, lock=True)
    crew.help_requested_at = crew.help_incident_id = crew.help_note = None
    session.flush()


# --- reading ------------------------------------------------------------------------------


def _crew_rows(session: Session, crew_ids: Sequence[int] | None = None) -> list[Any]:
    query = select(
        Crew,
        func.ST_X(Crew.depot),
        func.ST_Y(Crew.depot),
        func.ST_X(Crew.position),
        func.ST_Y(Crew.position),
    ).order_by(Crew.id)
    if crew_ids is not None:
        query = query.where(Crew.id.in_(crew_ids))
    return list(session.execute(query))


def _shifts(session: Session, crew_ids: Sequence[int], now: datetime) -> dict[int, list[ShiftOut]]:
    rows = session.execute(
        select(CrewShift.crew_id, CrewShift.starts_at, CrewShift.ends_at)
        .where(CrewShift.crew_id.in_(crew_ids), CrewShift.ends_at > now)
        .order_by(CrewShift.crew_id, CrewShift.starts_at)
    )
    found: dict[int, list[ShiftOut]] = {}
    for crew_id, starts_at, ends_at in rows:
        found.setdefault(crew_id, []).append(ShiftOut(starts_at=starts_at, ends_at=ends_at))
    return found


def _members(session: Session, crew_ids: Sequence[int]) -> dict[int, list[MemberOut]]:
    rows = session.execute(
        select(StaffUser.crew_id, StaffUser.username, StaffUser.display_name)
        .where(StaffUser.crew_id.in_(crew_ids), StaffUser.disabled_at.is_(None))
        .order_by(StaffUser.username)
    )
    found: dict[int, list[MemberOut]] = {}
    for crew_id, name, display_name in rows:
        found.setdefault(crew_id, []).append(MemberOut(username=name, display_name=display_name))
    return found


def _windows(
    shifts: Sequence[ShiftOut], arrives_at: datetime | None, released_at: datetime | None
) -> list[tuple[datetime, datetime]]:
    """The crew's shifts cut to its time here: from its arrival, until its release."""
    windows = []
    for shift in shifts:
        start = max(shift.starts_at, arrives_at or shift.starts_at)
        end = min(shift.ends_at, released_at or shift.ends_at)
        if start < end:
            windows.append((start, end))
    return windows


def _on_shift(crew: Crew, shifts: Sequence[ShiftOut], now: datetime) -> bool:
    return crew.status is not CrewStatus.OFF_SHIFT and any(
        start <= now < end for start, end in _windows(shifts, crew.arrives_at, crew.released_at)
    )


def list_crews(
    session: Session, *, now: datetime, crew_ids: Sequence[int] | None = None
) -> list[CrewOut]:
    rows = _crew_rows(session, crew_ids)
    ids = [row[0].id for row in rows]
    shifts, members = _shifts(session, ids, now), _members(session, ids)
    crews = []
    for crew, depot_lon, depot_lat, lon, lat in rows:
        position = None
        if crew.position_at is not None:
            position = PositionOut(
                lat=lat, lon=lon, accuracy=crew.position_accuracy_m, recorded_at=crew.position_at
            )
        crews.append(
            CrewOut(
                id=crew.id,
                name=crew.name,
                skills=[Skill(s) for s in crew.skills],
                depot=Point(lat=depot_lat, lon=depot_lon),
                vehicle=crew.vehicle,
                status=crew.status,
                origin=crew.origin,
                organisation=crew.organisation,
                arrives_at=crew.arrives_at,
                released_at=crew.released_at,
                on_shift=_on_shift(crew, shifts.get(crew.id, []), now),
                position=position,
                shifts=shifts.get(crew.id, []),
                members=members.get(crew.id, []),
                help=(
                    HelpOut(
                        requested_at=crew.help_requested_at,
                        incident_id=crew.help_incident_id,
                        note=crew.help_note,
                    )
                    if crew.help_requested_at is not None
                    else None
                ),
            )
        )
    return crews


def get_crew(session: Session, crew_id: int, *, now: datetime) -> CrewOut:
    found = list_crews(session, now=now, crew_ids=[crew_id])
    if not found:
        raise CrewNotFound(f"no crew {crew_id}")
    return found[0]


def crew_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Crew.id, Crew.name)).tuples().all())


def planning_crews(
    session: Session, *, now: datetime, position_max_age: timedelta
) -> list[dispatch.Crew]:
    """The crews as the optimiser sees them: the shift under way (or the next one within
    `PLANNING_HORIZON`), from the crew's arrival and never past its release, and where they
    are (the depot when their position is stale)."""
    crews = list_crews(session, now=now)
    planned = []
    for crew in crews:
        window = next(
            (
                (start, end)
                for start, end in _windows(crew.shifts, crew.arrives_at, crew.released_at)
                if start < now + PLANNING_HORIZON and end > now
            ),
            None,
        )
        if window is None:
            continue
        shift_start, shift_end = window
        location = None
        if crew.position is not None and crew.position.recorded_at >= now - position_max_age:
            location = (crew.position.lon, crew.position.lat)
        planned.append(
            dispatch.Crew(
                id=crew.id,
                skills=frozenset(crew.skills),
                shift_start=shift_start,
                shift_end=shift_end,
                depot=(crew.depot.lon, crew.depot.lat),
                location=location,
                status=crew.status,
            )
        )
    return planned


def fingerprint_rows(session: Session) -> list[tuple[Any, ...]]:
    """What of the crews a plan depends on, for `outage.crews.planning`'s change check."""
    rows = session.execute(
        select(
            Crew.id,
            Crew.skills,
            Crew.status,
            func.ST_AsText(Crew.depot),
            func.ST_AsText(func.ST_SnapToGrid(Crew.position, 0.001)),
            Crew.arrives_at,
            Crew.released_at,
            select(func.array_agg(func.concat(CrewShift.starts_at, "/", CrewShift.ends_at)))
            .where(CrewShift.crew_id == Crew.id)
            .scalar_subquery(),
        ).order_by(Crew.id)
    )
    return [tuple(row) for row in rows]
