"""Per-customer interruption records, derived from incidents and their audit trail.

The records are a function of the incidents, their audit rows and the network (the rules:
`outage.incidents.interruptions`). Restorations store those of their incidents as they
happen (`outage.incidents.recorded`), and the reports read the stored ones; this
derivation is the truth they are kept equal to: `outage reliability rebuild` stores it
again after a correction the stored records could not follow (switching recorded late,
a fix to these rules), and the reports derive here what is not stored yet (outages still
on, planned outages, outages restored before the upgrade that the backfill has not
reached).

Planned interruptions come from two places: planned outages (`outage.notifications.
planned`, not cancelled), whose customers are out for the scheduled window, as nothing
records when the work really began and ended (who is below the device: at the outage's
start, on the network as operated then); and incidents whose cause begins with
"planned" (a dispatcher recording planned work as an incident, e.g. "planned: recloser
replacement"), which have no kind of their own. Both at once for the same work overlap,
and are merged like any overlapping records.
"""

from datetime import datetime

from sqlalchemy import and_, exists
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.incidents.interruptions import (
    Below,
    IncidentHistory,
    InterruptionRecord,
    Step,
    StepKind,
    in_window,
    incident_histories,
    interruptions_of,
)
from outage.incidents.models import Incident, RecordedIncident
from outage.notifications.planned import between as planned_outages_between


def _planned_histories(
    session: Session, start: datetime, end: datetime, as_of: datetime, below: Below
) -> list[IncidentHistory]:
    """Planned outages as scheduled: out for their window, or until `as_of` while under way."""
    return [
        IncidentHistory(
            event=f"planned/{outage.id}",
            started_at=outage.starts_at,
            accounts=below(outage.device, outage.starts_at),
            steps=(Step(StepKind.RESTORED, outage.ends_at),) if outage.ends_at <= as_of else (),
            planned=True,
        )
        for outage in planned_outages_between(session, start, end)
    ]


def load_histories(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    topology: Topology | None = None,
) -> list[IncidentHistory]:
    """The histories of every outage, unplanned or planned, that may have kept a customer
    out in [start, end).

    `topology` (the live network as operated) is the network the past states are derived
    from; without it the network is loaded from the database when a device needs it.
    """
    below = Below(session, topology)
    return incident_histories(session, in_window(start, end), below) + _planned_histories(
        session, start, end, as_of, below
    )


def interruption_records(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    topology: Topology | None = None,
) -> list[InterruptionRecord]:
    """The records of every outage that may have kept a customer out in [start, end).

    Records reaching outside the window are whole, not cut: the caller decides by their
    start, once overlapping records are merged.
    """
    return [
        record
        for history in load_histories(session, start=start, end=end, as_of=as_of, topology=topology)
        for record in interruptions_of(history, as_of=as_of)
    ]


def unstored_records(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    topology: Topology | None = None,
) -> list[InterruptionRecord]:
    """The records of [start, end) that are not stored: those of customers still out under
    an outage still on (until `as_of`), every record of an outage whose records are not
    stored yet (restored before the upgrade, until the backfill reaches it), and every
    planned outage's."""
    below = Below(session, topology)
    recorded = exists().where(RecordedIncident.incident_id == Incident.id)
    window = in_window(start, end)
    still_on = and_(window, Incident.restored_at.is_(None), recorded)
    return (
        [
            record
            for history in incident_histories(session, still_on, below)
            for record in interruptions_of(history, as_of=as_of)
            if record.ongoing
        ]
        + [
            record
            for history in incident_histories(session, and_(window, ~recorded), below)
            for record in interruptions_of(history, as_of=as_of)
        ]
        + [
            record
            for history in _planned_histories(session, start, end, as_of, below)
            for record in interruptions_of(history, as_of=as_of)
        ]
    )
