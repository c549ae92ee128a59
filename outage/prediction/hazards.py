"""Hazard reports become hazard incidents: at once from the channel that took them, and
on every engine cycle for any the channel did not open (a web form's, a lost request's).

A hazard needs no inference: one report of wires down is reason enough to send a crew
and to keep its section dead, so it does not wait for an agent to place the report. It is
opened where the report was placed best: the customer's premise, else the transformer
its GPS point fell near, else nowhere yet (the report keeps the customer's point and
words for the dispatcher). The same customer's next report of the same hazard (a second
call, a second SMS) is one more piece of evidence of the incident already open, not a
second incident with a second safety message.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session, aliased

from outage.grid.models import Customer, Device
from outage.incidents.changes import open_incident, update_prediction
from outage.incidents.enums import IncidentKind
from outage.incidents.evidence import EvidenceRef
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident, IncidentEvidence
from outage.intake.enums import Hazard
from outage.intake.models import Report
from outage.intake.schemas import ReceiptOut


@dataclass(frozen=True)
class HazardReport:
    report_id: int
    account: str | None
    transformer: str | None
    """The asset_ref of the transformer the report was placed near, without a premise."""
    hazard: Hazard
    received_at: datetime
    incident_id: int | None
    duplicate_of: int | None
    """The customer's first report of this outage, when this one repeats it."""


def open_hazard(session: Session, report: HazardReport) -> int | None:
    """Open the hazard incident of a report that is on none yet; its id, or None (also
    when the report joins the active hazard incident its customer reported before)."""
    if report.incident_id is not None:
        return None
    if (reported := _reported_before(session, report)) is not None:
        update_prediction(
            session,
            reported,
            add_evidence=[EvidenceRef.report(report.report_id)],
            reason=f"customer reported {report.hazard.value} again",
        )
        return None
    already = session.scalar(
        select(Incident.id).where(
            Incident.kind == IncidentKind.HAZARD,
            Incident.status.in_(sorted(ACTIVE)),
            exists().where(
                IncidentEvidence.incident_id == Incident.id,
                IncidentEvidence.report_id == report.report_id,
            ),
        )
    )
    if already is not None:
        return None
    return open_incident(
        session,
        kind=IncidentKind.HAZARD,
        account=report.account,
        device_asset_ref=None if report.account else report.transformer,
        hazard=report.hazard,
        confidence=1.0,
        customers_affected=0,
        started_at=report.received_at,
        evidence=[EvidenceRef.report(report.report_id)],
        reason=f"customer reported {report.hazard.value}",
    )


def _reported_before(session: Session, report: HazardReport) -> int | None:
    """The active incident of the same hazard that an earlier report of the same
    customer's outage (the one this repeats, or another repeat of it) is evidence of."""
    if report.duplicate_of is None:
        return None
    return session.scalar(
        select(Incident.id)
        .join(IncidentEvidence, IncidentEvidence.incident_id == Incident.id)
        .join(Report, Report.id == IncidentEvidence.report_id)
        .where(
            Incident.kind == IncidentKind.HAZARD,
            Incident.status.in_(sorted(ACTIVE)),
            Incident.hazard == report.hazard,
            Report.id != report.report_id,
            or_(Report.id == report.duplicate_of, Report.duplicate_of_id == report.duplicate_of),
        )
        .order_by(Incident.id)
        .limit(1)
    )


def hazard_reports() -> Select[Any]:
    """The columns of a `HazardReport`, in its order, for the engine's evidence and for a
    channel opening its own report's hazard at once."""
    transformer = aliased(Device)
    return (
        select(
            Report.id,
            Customer.account,
            transformer.asset_ref,
            Report.hazard,
            Report.received_at,
            Report.incident_id,
            Report.duplicate_of_id,
        )
        .outerjoin(Customer, Customer.id == Report.customer_id)
        .outerjoin(transformer, transformer.id == Report.transformer_id)
    )


def open_filed_hazard(session: Session, receipt: ReceiptOut) -> None:
    """The e-mail receiver's `after_filing`: a hazard filed by mail opens at once."""
    open_reported_hazard(session, receipt.ticket)


def open_reported_hazard(session: Session, ticket: str) -> int | None:
    """Open at once the hazard incident of the report with this ticket, if it is a hazard
    on no incident yet (the caller commits both together); its id, or None."""
    row = session.execute(hazard_reports().where(Report.ticket == ticket)).first()
    if row is None or row.hazard is None:
        return None
    return open_hazard(session, HazardReport(*row))
