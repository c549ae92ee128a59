"""An incident's photos: those its crews and staff added, and those of its reports."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.incidents.errors import IncidentNotFound
from outage.incidents.models import Incident
from outage.intake.models import Report
from outage.media.enums import PhotoSource
from outage.media.schemas import PhotoAdded, PhotoOut
from outage.media.service import add_photo, photos_of
from outage.settings import Settings


def incident_photos(session: Session, incident_id: int) -> list[PhotoOut]:
    """Every photo of the incident, oldest first; IncidentNotFound."""
    _check_exists(session, incident_id)
    reports = select(Report.id).where(Report.incident_id == incident_id)
    return photos_of(session, incident_id=incident_id, report_ids=reports)


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
