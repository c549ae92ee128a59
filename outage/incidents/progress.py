"""A report's progress as its customer may know it, read from the report's incident.

The one reader behind every channel's status answer (`Progress` in
`outage/intake/progress.py` says what it holds and words it).

The storm rule, kept simple on purpose: while at least `STORM_INCIDENTS` outages are
open, an outage with no ETR yet and no crew on site is "assessing damage", which is what
the control room is doing before it can promise times.
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.models import Incident
from outage.intake.enums import ReportOutcome, ReportStatus
from outage.intake.models import Report
from outage.intake.progress import Phase, Progress, told_cause

STORM_INCIDENTS = 20
"""Open outages from which a storm is assumed (see the module's docstring)."""

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

_CAN_WAIT_FOR_TIMES = frozenset({Phase.KNOWN, Phase.CREW_ON_THE_WAY})


def report_progress(
    session: Session,
    ticket: str,
    *,
    storm_incidents: int = STORM_INCIDENTS,
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
    told_etr = active and not hazard
    restored_at = (report.closed_at if personal else None) or incident.restored_at
    return Progress(
        ticket=report.ticket,
        status=report.status,
        phase=phase,
        cause=told_cause(incident.cause),
        etr=incident.etr if told_etr else None,
        etr_earliest=incident.etr_earliest if told_etr else None,
        etr_latest=incident.etr_latest if told_etr else None,
        restored_at=restored_at if phase is Phase.RESTORED else None,
        hazard=hazard,
        personal=personal,
        assessing_damage=(
            active
            and not hazard
            and incident.etr is None
            and phase in _CAN_WAIT_FOR_TIMES
            and _open_outages(session) >= storm_incidents
        ),
    )


def _open_outages(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(Incident.kind == IncidentKind.OUTAGE, Incident.status.in_(sorted(ACTIVE)))
        )
        or 0
    )
