"""Damage assessments: what assessors and crews found in the field before repair, and the
newest of each incident's, which sizes its job for the planner (`outage.crews.plan_inputs`).

Phones queue assessments while out of reach and send them again after a lost answer, so
each carries the sender's idempotency key: the same key finds the first row, never a
second. The time is the assessment's own (the phone's), kept as given when it arrives late.

Every function takes the session and plain values and never commits.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.model import Skill
from outage.crews.models import DamageAssessment
from outage.crews.schemas import DamageIn, DamageOut, Point
from outage.errors import Conflict, Invalid, NotFound
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.moments import CLOCK_SKEW

OLDEST_ASSESSMENT = timedelta(days=7)
"""An assessment older than this is a phone's wrong clock, not a queue waiting for signal."""


class DamageRefused(Invalid, ValueError):
    """An assessment that cannot be right: a time in the future, an unknown incident."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


class DamageKeyReused(Conflict, ValueError):
    """The idempotency key was another sender's."""

    code = "key_reused"


class IncidentUnknown(NotFound, LookupError):
    """No incident with that id, for its assessments."""


@dataclass(frozen=True)
class Assessed:
    """What the newest assessment of an incident asks of the planner."""

    hours_needed: float
    """Crew-hours of work for one crew."""
    crew_type_needed: Skill


def _check_time(assessed_at: datetime, now: datetime) -> None:
    if assessed_at > now + CLOCK_SKEW:
        raise DamageRefused(f"assessed_at {assessed_at.isoformat()} is in the future", "event_time")
    if assessed_at < now - OLDEST_ASSESSMENT:
        raise DamageRefused(
            f"assessed_at {assessed_at.isoformat()} is more than {OLDEST_ASSESSMENT.days} days old",
            "event_time",
        )


def _insert(session: Session, damage: DamageIn, values: dict[str, Any]) -> int | None:
    """The new row's id; None when the key was taken. An unknown incident or crew is the
    foreign key's to find, refused here."""
    statement = (
        insert(DamageAssessment)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_damage_assessments_idempotency_key")
        .returning(DamageAssessment.id)
    )
    try:
        with session.begin_nested():
            return session.scalar(statement)
    except IntegrityError as exc:
        if "fk_damage_assessments_incident_id" in str(exc.orig):
            raise DamageRefused(f"no incident {damage.incident_id}", "unknown_incident") from exc
        if "fk_damage_assessments_crew_id" in str(exc.orig):
            raise DamageRefused(f"no crew {damage.crew_id}", "unknown_crew") from exc
        raise


def report_damage(
    session: Session, damage: DamageIn, *, key: str, reported_by: str, now: datetime
) -> tuple[DamageOut, bool]:
    """Keep the assessment; it and whether it is new. The key sent again by the same
    reporter answers the row it made first; another reporter's key is refused (409)."""
    _check_time(damage.assessed_at, now)
    location = damage.location
    values = damage.model_dump(exclude={"location"}) | {
        "idempotency_key": key,
        "reported_by": reported_by,
        "received_at": now,
        "location": (
            func.ST_SetSRID(func.ST_MakePoint(location.lon, location.lat), 4326)
            if location is not None
            else None
        ),
    }
    made = _insert(session, damage, values)
    row = _read(session, DamageAssessment.idempotency_key == key)[0]
    if made is None and row.reported_by != reported_by:
        raise DamageKeyReused(f"idempotency key {key!r} was used by another sender")
    return row, made is not None


def incident_damage(session: Session, incident_id: int) -> list[DamageOut]:
    """An incident's assessments, newest first."""
    if session.get(Incident, incident_id) is None:
        raise IncidentUnknown(f"no incident {incident_id}")
    return _read(session, DamageAssessment.incident_id == incident_id)


def newest_damage(session: Session, incident_ids: Iterable[int]) -> dict[int, Assessed]:
    """Per incident, its newest assessment (by when it was assessed) as the planner uses it."""
    rows = session.execute(
        select(
            DamageAssessment.incident_id,
            DamageAssessment.hours_needed,
            DamageAssessment.crew_type_needed,
        )
        .where(DamageAssessment.incident_id.in_(list(incident_ids)))
        .distinct(DamageAssessment.incident_id)
        .order_by(
            DamageAssessment.incident_id,
            DamageAssessment.assessed_at.desc(),
            DamageAssessment.id.desc(),
        )
    ).tuples()
    return {
        incident: Assessed(hours, skill) for incident, hours, skill in rows if incident is not None
    }


def fingerprint_rows(session: Session) -> list[tuple[Any, ...]]:
    """What of the assessments a plan depends on, for `outage.crews.planning`'s change check."""
    return [
        tuple(row)
        for row in session.execute(
            select(DamageAssessment.incident_id, func.max(DamageAssessment.id))
            .join(Incident, Incident.id == DamageAssessment.incident_id)
            .where(Incident.status.in_(sorted(ACTIVE)))
            .group_by(DamageAssessment.incident_id)
            .order_by(DamageAssessment.incident_id)
        )
    ]


def _read(session: Session, condition: Any) -> list[DamageOut]:
    rows = session.execute(
        select(
            DamageAssessment,
            func.ST_X(DamageAssessment.location),
            func.ST_Y(DamageAssessment.location),
        )
        .where(condition)
        .order_by(DamageAssessment.assessed_at.desc(), DamageAssessment.id.desc())
    )
    return [
        DamageOut(
            id=row.id,
            incident_id=row.incident_id,
            crew_id=row.crew_id,
            reported_by=row.reported_by,
            assessed_at=row.assessed_at,
            received_at=row.received_at,
            location=Point(lat=lat, lon=lon) if lon is not None else None,
            poles_down=row.poles_down,
            spans_down=row.spans_down,
            transformers_damaged=row.transformers_damaged,
            trees_on_line=row.trees_on_line,
            access=row.access,
            crew_type_needed=row.crew_type_needed,
            hours_needed=row.hours_needed,
            note=row.note,
        )
        for row, lon, lat in rows
    ]
