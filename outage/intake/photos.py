"""A report's photos, by its ticket: how a reporter adds one after filing, on any channel."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.errors import NotFound
from outage.intake.models import Report
from outage.media.enums import PhotoSource
from outage.media.schemas import PhotoAdded
from outage.media.service import add_photo
from outage.settings import Settings


class ReportNotFound(NotFound, LookupError):
    """No report with that ticket."""


def add_report_photo(
    session: Session,
    ticket: str,
    data: bytes,
    *,
    source: PhotoSource,
    settings: Settings,
    added_by: str | None = None,
) -> PhotoAdded:
    """Keep `data` as a photo of the report with `ticket` (any case, spaces around it);
    ReportNotFound, or the refusals of `outage.media.service.add_photo`."""
    wanted = ticket.strip().upper()
    report_id = session.scalar(select(Report.id).where(Report.ticket == wanted))
    if report_id is None:
        raise ReportNotFound(f"no report with ticket {ticket!r}")
    return add_photo(
        session, data, source=source, settings=settings, report_id=report_id, added_by=added_by
    )
