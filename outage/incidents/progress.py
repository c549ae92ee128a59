"""A report's progress as its customer may know it, read from the report's incident.

The one reader behind every channel's status answer (`Progress` in
`outage/intake/progress.py` says what it holds and words it).

In a declared storm the time told follows the phase of the outage's region
(`outage.storms`): none while the damage is assessed ("assessing damage"), the storm's
or the region's one time, then the outage's own.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.models import Incident
from outage.intake.enums import ReportOutcome, ReportStatus
from outage.intake.models import Report
from outage.intake.progress import Phase, Progress, told_cause
from outage.storms import service as storms
from outage.storms.service import ToldTime

_PHASES: dict[IncidentStatus, Phase] = {
    IncidentStatus.PREDICTED: Phase.KNOWN,
    IncidentStatus.CONFIRMED: Phase.KNOWN,
    IncidentStatus.DISPATCHED: Phase.CREW_ON_THE_WAY,
    IncidentStatus.EN_ROUTE: Phase.CREW_ON_THE_WAY,
    IncidentStatus.ON_SITE: Phase.CREW_ON_SITE,
    IncidentStatus.PARTIALLY_RESTORED: Phase.PARTLY_RESTORED,
    IncidentStatus.RESTORED: Phase.RESTORED,
    IncidentStatus.CLOSED: Phase.RESTORED,
    IncidentStatus.CANCELLED: Phase.NO_OUTAGE_FOUND,
}


def report_progress(
    session: Session,
    ticket: str,
    *,
    personal: bool = True,
) -> Progress | None:
    """Where the ticket's report stands (None for an unknown ticket). A duplicate follows
    the incident of the report it joins. `personal=False`: the incident's phase only, for
    an answer anyone may read (this customer's supply may be back before the outage's)."""
    report = session.scalar(select(Report).where(Report.ticket == ticket.strip().upper()))
    if report is None:
        return None
    if report.outcome is ReportOutcome.INSIDE_PREMISE:
        return Progress(report.ticket, report.status, Phase.INSIDE_PREMISE, personal=personal)
    incident_id = report.incident_id
    if incident_id is None and report.duplicate_of_id is not None:
        incident_id = session.scalar(
            select(Report.incident_id).where(Report.id == report.duplicate_of_id)
        )
    incident = session.get(Incident, incident_id) if incident_id is not None else None
    if incident is None:
        return Progress(report.ticket, report.status, None)
    phase = _PHASES[incident.status]
    own_supply_back = report.status is ReportStatus.CLOSED and phase is not Phase.NO_OUTAGE_FOUND
    if personal and own_supply_back:
        phase = Phase.RESTORED  # this customer's supply is back, the outage's may not be
    hazard = incident.kind is IncidentKind.HAZARD
    active = incident.status in ACTIVE and phase is not Phase.RESTORED
    restored_at = (report.closed_at if personal else None) or incident.restored_at
    told = ToldTime()
    if active and not hazard:
        own = ToldTime(
            incident.etr, incident.etr_earliest, incident.etr_latest, scope=incident.etr_scope
        )
        storm = storms.current(session)
        region = storms.region_of(session, incident.feeder_id) if storm is not None else None
        told = storms.told_time(storm, region, own)
    return Progress(
        ticket=report.ticket,
        status=report.status,
        phase=phase,
        cause=told_cause(incident.cause),
        etr=told.etr,
        etr_earliest=told.earliest,
        etr_latest=told.latest,
        etr_scope=told.scope,
        restored_at=restored_at if phase is Phase.RESTORED else None,
        hazard=hazard,
        personal=personal,
        assessing_damage=told.assessing_damage,
    )
