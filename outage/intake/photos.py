"""A report's photos, by its ticket: how a reporter adds one after filing, on any channel,
and how a photo named by URL is fetched for it."""

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.errors import NotFound
from outage.intake.models import Report
from outage.media import remote
from outage.media.enums import PhotoSource
from outage.media.errors import REFUSALS
from outage.media.schemas import PhotoAdded
from outage.media.service import add_photo, record_fetch
from outage.settings import Settings

log = logging.getLogger(__name__)


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
    return add_photo(
        session,
        data,
        source=source,
        settings=settings,
        report_id=_report_id(session, ticket),
        added_by=added_by,
    )


def fetch_report_photo(
    session: Session, ticket: str, url: str, *, source: PhotoSource, settings: Settings
) -> int | None:
    """Fetch the photo at `url` for the report (`outage.media.remote`) and keep it; the
    photo's id, or None when the fetch failed or the photo was refused, which is kept on
    record (`photo_fetches`) and refuses nothing, whatever went wrong: the report is
    committed before, and its answer stands. Called once the report is committed: the
    fetch may take `photo_url_timeout_seconds`."""
    report_id = _report_id(session, ticket)
    try:
        data = remote.fetch(url, settings=settings)
        with session.begin_nested():
            added = add_photo(session, data, source=source, settings=settings, report_id=report_id)
    except (remote.FetchFailed, *REFUSALS) as failure:
        reason = str(failure)
    except Exception as failure:  # unforeseen: logged, and on record like any failure
        log.exception("fetching a photo for report %s failed", report_id)
        reason = f"the fetch failed unexpectedly: {type(failure).__name__}"
    else:
        record_fetch(session, report_id=report_id, url=url, photo_id=added.id)
        return added.id
    record_fetch(session, report_id=report_id, url=url, reason=reason)
    return None


def _report_id(session: Session, ticket: str) -> int:
    wanted = ticket.strip().upper()
    report_id = session.scalar(select(Report.id).where(Report.ticket == wanted))
    if report_id is None:
        raise ReportNotFound(f"no report with ticket {ticket!r}")
    return report_id
