"""An incident's photos: those its crews and staff added, and those of its reports."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.incidents.errors import IncidentNotFound
from outage.incidents.models import Incident
from outage.intake.models import Report
from outage.media.schemas import PhotoOut
from outage.media.service import photos_of


def incident_photos(session: Session, incident_id: int) -> list[PhotoOut]:
    """Every photo of the incident, oldest first; IncidentNotFound."""
    if session.get(Incident, incident_id) is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    reports = select(Report.id).where(Report.incident_id == incident_id)
    return photos_of(session, incident_id=incident_id, report_ids=reports)
