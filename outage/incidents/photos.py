"""An incident's photos: those its crews and staff added, and those of its reports."""

from collections.abc import Collection

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from outage.incidents.errors import IncidentNotFound
from outage.incidents.models import Incident
from outage.intake.models import Report
from outage.media.enums import PhotoSource
from outage.media.models import Photo
from outage.media.schemas import PhotoAdded, PhotoOut
from outage.media.service import add_photo, photos_of
from outage.settings import Settings


def incident_photos(session: Session, incident_id: int) -> list[PhotoOut]:
    """Every photo of the incident, oldest first; IncidentNotFound."""
    _check_exists(session, incident_id)
    reports = select(Report.id).where(Report.incident_id == incident_id)
    return photos_of(session, incident_id=incident_id, report_ids=reports)


def photo_counts(session: Session, incident_ids: Collection[int]) -> dict[int, int]:
    """How many photos each incident has (its own and its reports'); none: not named."""
    if not incident_ids:
        return {}
    own = select(Photo.incident_id.label("incident_id"), Photo.id).where(
        Photo.incident_id.in_(incident_ids)
    )
    of_reports = (
        select(Report.incident_id.label("incident_id"), Photo.id)
        .join(Report, Report.id == Photo.report_id)
        .where(Report.incident_id.in_(incident_ids))
    )
    both = union_all(own, of_reports).subquery()
    rows = session.execute(
        select(both.c.incident_id, func.count(func.distinct(both.c.id))).group_by(
            both.c.incident_id
        )
    )
    return {incident_id: count for incident_id, count in rows}


def add_incident_photo(
    session: Session,
    incident_id: int,
    data: bytes,
    *,
    source: PhotoSource,
    settings: Settings,
    added_by: str,
) -> PhotoAdded:
    """Keep `data` as a photo of the incident (a crew's of the damage); IncidentNotFound,
    or the refusals of `outage.media.service.add_photo`."""
    _check_exists(session, incident_id)
    return add_photo(
        session,
        data,
        source=source,
        settings=settings,
        incident_id=incident_id,
        added_by=added_by,
    )


def _check_exists(session: Session, incident_id: int) -> None:
    if session.get(Incident, incident_id) is None:
        raise IncidentNotFound(f"no incident {incident_id}")
