"""Evidence of an incident: reports, meter and SCADA events attached and detached, each
counted once."""

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.incidents.changes import update_prediction
from outage.incidents.errors import UnknownAsset
from outage.incidents.evidence import EvidenceRef
from outage.incidents.queries import get_incident
from outage.intake.models import Report

from .conftest import Places

OpenOn = Callable[..., int]


def test_attached_reports_point_to_the_incident_and_are_counted(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    reports = [add_report(session) for _ in range(3)]
    incident_id = open_on(
        session, places.fuses[1], evidence=[EvidenceRef.report(r) for r in reports]
    )
    pointing = session.scalars(select(Report.incident_id).where(Report.id.in_(reports))).all()
    assert pointing == [incident_id] * 3
    assert get_incident(session, incident_id).report_count == 3


def test_unknown_evidence_is_refused(session: Session, places: Places, open_on: OpenOn) -> None:
    with pytest.raises(UnknownAsset, match="report"):
        open_on(session, places.fuses[0], evidence=[EvidenceRef.report(-1)])


def test_update_adds_meter_and_scada_evidence(
    session: Session,
    places: Places,
    open_on: OpenOn,
    add_meter_event: Callable[[Session], int],
    add_scada_event: Callable[[Session, str], int],
) -> None:
    incident_id = open_on(session, places.fuses[0])
    update_prediction(
        session,
        incident_id,
        add_evidence=[
            EvidenceRef.meter_event(add_meter_event(session)),
            EvidenceRef.scada_event(add_scada_event(session, places.fuses[0])),
        ],
        reason="last gasp and breaker open",
    )
    evidence = get_incident(session, incident_id).evidence
    assert (evidence.reports, evidence.meter_events, evidence.scada_events) == (0, 1, 1)


def test_adding_the_same_evidence_twice_counts_it_once(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    report = EvidenceRef.report(add_report(session))
    incident_id = open_on(session, places.fuses[0], evidence=[report])
    changed = update_prediction(session, incident_id, add_evidence=[report], reason="again")
    assert not changed
    assert get_incident(session, incident_id).evidence.reports == 1


def test_removed_report_no_longer_points_to_the_incident(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    report_id = add_report(session)
    incident_id = open_on(session, places.fuses[0], evidence=[EvidenceRef.report(report_id)])
    update_prediction(
        session, incident_id, remove_evidence=[EvidenceRef.report(report_id)], reason="noise"
    )
    assert session.scalar(select(Report.incident_id).where(Report.id == report_id)) is None
    assert get_incident(session, incident_id).report_count == 0
