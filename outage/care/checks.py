"""Connection checks: when the network shows no outage where a customer reported one.

An incident cancelled as "no such outage" leaves its customers without power and without
an answer from the network. Each of them gets a service request to check their premise's
own connection (service line, meter, main breaker), opened by the care centre's periodic
job once their report closes (`open_connection_checks`, run by `outage/care/jobs.py`).

Care sits above incidents and intake, so it reads both; neither learns of care.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from outage import clock
from outage.care.enums import RequestType
from outage.care.models import ServiceRequest
from outage.care.schemas import RequestIn
from outage.care.service import submit_request
from outage.errors import DomainError
from outage.grid.models import Customer
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident
from outage.intake.enums import Channel, ReportStatus
from outage.intake.models import Report
from outage.settings import Settings

LOOK_BACK = timedelta(days=2)
"""Reports closed this long ago or less are looked at; older ones were handled by then."""

KEY_PREFIX = "connection-check"

_log = logging.getLogger(__name__)


def _key(incident_id: int, account: str) -> str:
    """The check's idempotency key: one check per customer and incident."""
    return f"{KEY_PREFIX}:{incident_id}:{account}"


_KEY_IN_SQL = func.concat(f"{KEY_PREFIX}:", Report.incident_id, ":", Customer.account)
"""`_key` of a report's row, for the query to skip customers already checked."""


def open_connection_checks(
    session: Session, settings: Settings, now: datetime | None = None
) -> int:
    """One connection check per customer of each cancelled outage (never for one merged
    into another: that outage was real; never for a hazard: a danger not found says
    nothing of anyone's supply). Each check opens in its own savepoint: one that fails is
    logged and tried again next run, the others open. Returns how many were opened."""
    now = now or clock.now()
    rows = session.execute(
        select(Report.incident_id, Customer.account)
        .join(Incident, Incident.id == Report.incident_id)
        .join(Customer, Customer.id == Report.customer_id)
        .where(
            Report.status == ReportStatus.CLOSED,
            Report.closed_at >= now - LOOK_BACK,
            Incident.kind == IncidentKind.OUTAGE,
            Incident.status == IncidentStatus.CANCELLED,
            Incident.merged_into_id.is_(None),
            ~exists().where(ServiceRequest.idempotency_key == _KEY_IN_SQL),
        )
        .distinct()
    ).all()
    opened = 0
    for incident_id, account in rows:
        try:
            with session.begin_nested():
                _open_check(session, settings, incident_id, account, now)
        except (DomainError, SQLAlchemyError):
            _log.exception("connection check for %s of incident %s", account, incident_id)
            continue
        opened += 1
    return opened


def _open_check(
    session: Session, settings: Settings, incident_id: int, account: str, now: datetime
) -> None:
    submit_request(
        session,
        RequestIn(
            type=RequestType.CONNECTION_CHECK,
            account=account,
            channel=Channel.AGENT,
            description=f"Incident {incident_id} was cancelled: no outage on the network. "
            "Check this premise's own connection.",
        ),
        settings=settings,
        idempotency_key=_key(incident_id, account),
        now=now,
    )
