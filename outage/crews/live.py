"""How busy the crews on shift are, for the supervisor's live panel."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from dispatch.model import CrewStatus
from outage.crews.models import Crew, CrewShift


@dataclass(frozen=True)
class CrewLoad:
    """The crews on shift now (a shift covers now, the crew has arrived, is not released
    and not marked off shift), by what they are doing."""

    free: int
    travelling: int
    on_site: int


def crew_load(session: Session, *, now: datetime) -> CrewLoad:
    on_shift = exists().where(
        CrewShift.crew_id == Crew.id, CrewShift.starts_at <= now, CrewShift.ends_at > now
    )
    found = dict(
        session.execute(
            select(Crew.status, func.count())
            .where(
                Crew.status != CrewStatus.OFF_SHIFT,
                on_shift,
                or_(Crew.arrives_at.is_(None), Crew.arrives_at <= now),
                or_(Crew.released_at.is_(None), Crew.released_at > now),
            )
            .group_by(Crew.status)
        )
        .tuples()
        .all()
    )
    return CrewLoad(
        free=found.get(CrewStatus.AVAILABLE, 0),
        travelling=found.get(CrewStatus.EN_ROUTE, 0),
        on_site=found.get(CrewStatus.ON_SITE, 0),
    )
