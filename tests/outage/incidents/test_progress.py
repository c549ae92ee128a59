"""A report's progress follows its incident (rolled back, on the sample grid): the phase
through the crew's work, the report closed at the restoration's own time, "no outage
found" for a cancelled incident, the storm rule, and nothing about anyone in the words."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.grid.models import Customer
from outage.i18n import Language
from outage.incidents.changes import cancel, set_etr
from outage.incidents.enums import IncidentKind
from outage.incidents.evidence import EvidenceRef
from outage.incidents.progress import report_progress
from outage.intake.closing import close_reports
from outage.intake.enums import Hazard, ReportStatus
from outage.intake.models import Report
from outage.intake.progress import Phase, Progress, describe
from outage.storms import service as storms
from outage.storms.enums import EtrScope, StormPhase
from outage.storms.schemas import StormIn
from tests.conftest import make_crew

from .conftest import Places, act

OpenOn = Callable[..., int]
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def _reported(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> tuple[str, int]:
    """A report on a customer under a fuse, and the incident it is evidence of."""
    report = session.get_one(Report, add_report(session))
    report.customer_id = session.scalar(
        select(Customer.id).where(Customer.account == places.accounts[0])
    )
    report.received_at = datetime.now(UTC) - timedelta(hours=1)
    incident = open_on(session, places.fuses[0], evidence=[EvidenceRef.report(report.id)])
    return report.ticket, incident


def _phase(session: Session, ticket: str) -> Phase | None:
    found = report_progress(session, ticket)
    assert found is not None
    return found.phase


def test_the_phase_follows_the_crew_and_the_report_closes_at_the_restoration(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    ticket, incident = _reported(session, places, open_on, add_report)
    assert _phase(session, ticket) is Phase.KNOWN
    act(session, incident, "assign", crew_id=make_crew(session))
    assert _phase(session, ticket) is Phase.CREW_ON_THE_WAY
    act(session, incident, "en_route")
    assert _phase(session, ticket) is Phase.CREW_ON_THE_WAY
    act(session, incident, "on_site")
    assert _phase(session, ticket) is Phase.CREW_ON_SITE
    restored_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    act(session, incident, "restored", at=restored_at.isoformat())
    found = report_progress(session, ticket)
    assert found is not None
    assert (found.phase, found.status, found.restored_at) == (
        Phase.RESTORED,
        ReportStatus.CLOSED,
        restored_at,
    )
    hhmm = restored_at.astimezone(HANOI).strftime("%H:%M")
    said = describe(found, Language.EN, HANOI)
    assert said.startswith(f"Ticket {ticket}: power restored at {hhmm}")  # a date after midnight


def test_a_cancelled_incident_tells_no_outage_was_found(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    ticket, incident = _reported(session, places, open_on, add_report)
    cancel(session, incident, reason="nothing found on the network")
    found = report_progress(session, ticket)
    assert found is not None
    assert (found.phase, found.status) == (Phase.NO_OUTAGE_FOUND, ReportStatus.CLOSED)
    assert describe(found, Language.EN, HANOI) == (
        f"Ticket {ticket}: we found no outage on our side; "
        "your premise's connection is being checked."
    )


def test_the_etr_is_told_with_its_range_and_a_listed_cause(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    ticket, incident = _reported(session, places, open_on, add_report)
    etr = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    likely = (etr - timedelta(minutes=45), etr + timedelta(hours=1))
    set_etr(session, incident, etr=etr, likely=likely)
    act(session, incident, "set_cause", cause="tree_contact")
    found = report_progress(session, ticket)
    assert found is not None
    assert (found.etr, found.etr_earliest, found.etr_latest) == (etr, *likely)
    said = describe(found, Language.EN, HANOI)
    assert "Cause: Tree contact." in said
    assert f"around {etr.astimezone(HANOI):%H:%M}" in said
    assert f"likely between {likely[0].astimezone(HANOI):%H:%M}" in said  # a date past midnight


def test_a_crews_etr_is_told_without_a_range() -> None:
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    etr = now + timedelta(hours=2)
    found = Progress("261206-ABCDE", ReportStatus.RECEIVED, Phase.KNOWN, etr=etr)
    said = describe(found, Language.EN, HANOI, now=now)
    assert said.endswith("Power expected back around 12:00.")


def test_an_etr_range_is_told_with_the_status() -> None:
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    found = Progress(
        "261206-ABCDE",
        ReportStatus.RECEIVED,
        Phase.KNOWN,
        etr=now + timedelta(hours=2),
        etr_earliest=now + timedelta(minutes=75),
        etr_latest=now + timedelta(hours=3),
    )
    said = describe(found, Language.VI, HANOI, now=now)
    assert said.endswith("Dự kiến có điện lúc 12:00 (nhiều khả năng trong khoảng 11:15 đến 13:00).")


def test_an_etr_range_never_begins_in_the_past() -> None:
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    found = Progress(
        "261206-ABCDE",
        ReportStatus.RECEIVED,
        Phase.KNOWN,
        etr=now,
        etr_earliest=now - timedelta(minutes=30),
        etr_latest=now + timedelta(minutes=30),
    )
    assert "10:00 (likely between 10:00 and 10:30)" in describe(found, Language.EN, HANOI, now=now)


def test_a_time_not_today_is_told_with_its_date() -> None:
    now = datetime(2026, 6, 2, 3, 0, tzinfo=UTC)
    restored_at = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    found = Progress("261206-ABCDE", ReportStatus.CLOSED, Phase.RESTORED, restored_at=restored_at)
    said = describe(found, Language.EN, HANOI, now=now)
    assert said == "Ticket 261206-ABCDE: power restored at 10:00 on 1 Jun."
    assert "10:00." in describe(found, Language.EN, HANOI, now=restored_at)


def test_a_hazard_reporter_is_told_of_the_danger_then_that_it_was_made_safe(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    report = session.get_one(Report, add_report(session))
    incident = open_on(
        session,
        places.fuses[0],
        kind=IncidentKind.HAZARD,
        hazard=Hazard.WIRES_DOWN,
        evidence=[EvidenceRef.report(report.id)],
    )
    found = report_progress(session, report.ticket)
    assert found is not None
    assert describe(found, Language.EN, HANOI) == (
        f"Ticket {report.ticket}: we know of the danger you reported. Keep away; a crew will "
        "make it safe."
    )
    made_safe = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    act(session, incident, "assign", crew_id=make_crew(session))
    act(session, incident, "restored", at=made_safe.isoformat())
    found = report_progress(session, report.ticket)
    assert found is not None
    said = describe(found, Language.EN, HANOI, now=made_safe)
    assert said == f"Ticket {report.ticket}: made safe at {made_safe.astimezone(HANOI):%H:%M}."


def test_a_free_text_cause_is_never_told(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    ticket, incident = _reported(session, places, open_on, add_report)
    act(session, incident, "set_cause", cause="tree fell from Mr Nguyen's garden")
    found = report_progress(session, ticket)
    assert found is not None
    assert found.cause is None
    assert "Nguyen" not in describe(found, None, HANOI)


def _storm(session: Session, phase: StormPhase) -> int:
    storm = StormIn(name="Yagi", level=2, phase=phase)
    return storms.declare(session, storm, actor="supervisor", now=datetime.now(UTC))


def test_while_a_storms_damage_is_assessed_no_time_is_told(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    ticket, incident = _reported(session, places, open_on, add_report)
    act(session, incident, "set_etr", etr=datetime.now(UTC) + timedelta(hours=3))
    _storm(session, StormPhase.ASSESSING)
    found = report_progress(session, ticket)
    assert found is not None
    assert found.assessing_damage and found.etr is None
    assert "assessing the damage" in describe(found, Language.EN, HANOI)


def test_in_a_storms_global_phase_the_storms_time_is_told(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    ticket, _ = _reported(session, places, open_on, add_report)
    storm = _storm(session, StormPhase.GLOBAL)
    now = datetime.now(UTC)
    times = (now + timedelta(hours=20), now + timedelta(hours=26))
    storms.set_times(session, storm, etr=times, regions={}, actor="planner", now=now)
    found = report_progress(session, ticket)
    assert found is not None
    assert (found.etr, found.etr_latest, found.etr_scope) == (*times, EtrScope.STORM)
    assert "all the storm cut off" in describe(found, Language.EN, HANOI)


def test_without_a_storm_nobody_is_told_damage_is_assessed(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    ticket, _ = _reported(session, places, open_on, add_report)
    found = report_progress(session, ticket)
    assert found is not None and not found.assessing_damage


def test_only_the_reports_of_the_customers_back_close(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    back, incident = _reported(session, places, open_on, add_report)
    other = session.get_one(Report, add_report(session))
    other.customer_id = session.scalar(
        select(Customer.id).where(Customer.account == places.accounts[-1])
    )
    other.incident_id = incident
    session.flush()
    closed = close_reports(session, incident, datetime.now(UTC), accounts=[places.accounts[0]])
    assert closed == 1
    assert _phase(session, back) is Phase.RESTORED
    assert other.status is ReportStatus.RECEIVED


def test_a_restoration_that_did_not_hold_opens_the_report_again(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    ticket, incident = _reported(session, places, open_on, add_report)
    act(session, incident, "assign", crew_id=make_crew(session))
    act(session, incident, "restored")
    act(session, incident, "on_site", reason="the fuse blew again")
    found = report_progress(session, ticket)
    assert found is not None
    assert (found.phase, found.status, found.restored_at) == (
        Phase.CREW_ON_SITE,
        ReportStatus.RECEIVED,
        None,
    )


def _on_incident(
    session: Session, add_report: Callable[[Session], int], incident: int, **values: object
) -> Report:
    report = session.get_one(Report, add_report(session))
    report.incident_id = incident
    for name, value in values.items():
        setattr(report, name, value)
    session.flush()
    return report


def test_a_report_received_after_the_restoration_goes_back_to_the_engine(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    restored_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    _, incident = _reported(session, places, open_on, add_report)
    early = _on_incident(
        session, add_report, incident, received_at=restored_at - timedelta(minutes=10)
    )
    late = _on_incident(
        session, add_report, incident, received_at=restored_at + timedelta(minutes=10)
    )
    close_reports(session, incident, restored_at)
    session.expire_all()
    assert (early.status, early.closed_at) == (ReportStatus.CLOSED, restored_at)
    assert (late.status, late.incident_id, late.closed_at) == (ReportStatus.RECEIVED, None, None)


def test_a_duplicate_that_is_evidence_of_another_incident_stays_open(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    ticket, incident = _reported(session, places, open_on, add_report)
    other = open_on(session, places.fuses[1])
    first = session.scalars(select(Report).where(Report.ticket == ticket)).one()
    duplicate = _on_incident(
        session, add_report, other, status=ReportStatus.DUPLICATE, duplicate_of_id=first.id
    )
    close_reports(session, incident, datetime.now(UTC))
    session.expire_all()
    assert duplicate.status is ReportStatus.DUPLICATE


def test_a_report_waiting_for_an_agent_stays_in_the_queue_through_close_and_reopen(
    session: Session, places: Places, open_on: OpenOn, add_report: Callable[[Session], int]
) -> None:
    _, incident = _reported(session, places, open_on, add_report)
    waiting = _on_incident(session, add_report, incident, status=ReportStatus.NEEDS_AGENT)
    act(session, incident, "assign", crew_id=make_crew(session))
    act(session, incident, "restored")
    session.expire_all()
    assert waiting.status is ReportStatus.NEEDS_AGENT
    act(session, incident, "on_site", reason="the fuse blew again")
    session.expire_all()
    assert waiting.status is ReportStatus.NEEDS_AGENT
