"""The after-action report on the ten-customer grid: each figure from incidents, their
audit trail, crews' shifts, storms and messages, in a rolled-back session."""

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.grid.models import Customer
from outage.incidents.enums import AuditAction
from outage.incidents.models import Incident, IncidentEvent
from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.models import Notification
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from outage.reliability.after_action import InvalidAfterAction, after_action
from outage.reliability.service import InvalidPeriod
from outage.storms.enums import StormAction, StormPhase
from outage.storms.errors import StormNotFound
from outage.storms.models import Storm, StormEvent
from tests.conftest import make_crew

from .conftest import outage, restore

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_SHIFT = timedelta(hours=8)
DAY = {"start": datetime(2025, 3, 10, tzinfo=ZONE), "end": datetime(2025, 3, 11, tzinfo=ZONE)}


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, 10, hour, minute, tzinfo=ZONE)


def report(session: Session, **period: Any) -> Any:
    return after_action(session, zone=ZONE, **(period or DAY))


def trail(
    session: Session, incident: int, action: AuditAction, at: datetime, **details: Any
) -> None:
    session.add(
        IncidentEvent(incident_id=incident, actor="t", action=action, at=at, details=details)
    )
    session.flush()


def etr_told(
    session: Session, incident: int, at: datetime, etr: datetime, **more: datetime
) -> None:
    details = {"etr": etr.isoformat(), "source": "dispatcher"}
    details |= {k: v.isoformat() for k, v in more.items()}
    trail(session, incident, AuditAction.ETR_SET, at, **details)


def message(
    session: Session,
    incident: int,
    account: str,
    sent_at: datetime | None,
    kind: EventKind = EventKind.OUTAGE_DETECTED,
    channel: DeliveryChannel = DeliveryChannel.SMS,
) -> None:
    event = NotificationEvent(kind=kind, incident_id=incident)
    session.add(event)
    session.flush()
    customer = session.scalar(select(Customer.id).where(Customer.account == account))
    session.add(
        Notification(
            event_id=event.id,
            customer_id=customer,
            incident_id=incident,
            kind=kind,
            channel=channel,
            address="0912000000",
            language="vi",
            subject="",
            body="Mất điện",
            status=DeliveryStatus.SENT if sent_at else DeliveryStatus.PENDING,
            sent_at=sent_at,
            due_at=sent_at or local(0),
            next_attempt_at=sent_at or local(0),
            delivery_key=uuid.uuid4().hex,
        )
    )
    session.flush()


def hour(found: Any, at: datetime) -> Any:
    return next(h for h in found.timeline if h.at == at)


# The period


def test_a_day_is_reported_hour_by_hour(session: Session) -> None:
    found = report(session)
    assert len(found.timeline) == 24
    assert found.timeline[0].at == local(0) and found.timeline[-1].at == local(23)


def test_whole_days_read_in_the_local_zone(session: Session) -> None:
    found = after_action(
        session, start=local(0).date(), end=local(0).date() + timedelta(days=1), zone=ZONE
    )
    assert (found.start, found.end) == (local(0), local(0) + timedelta(days=2))


def test_a_period_ending_before_it_starts_is_refused(session: Session) -> None:
    with pytest.raises(InvalidPeriod, match="before it starts"):
        report(session, start=DAY["end"], end=DAY["start"])


def test_a_period_over_62_days_is_refused(session: Session) -> None:
    with pytest.raises(InvalidPeriod, match="62 days"):
        report(session, start=DAY["start"], end=DAY["start"] + timedelta(days=63))


def test_a_period_and_a_storm_together_are_refused(session: Session) -> None:
    with pytest.raises(InvalidAfterAction):
        report(session, start=DAY["start"], end=DAY["end"], storm=1)


def test_an_unknown_storm_is_not_found(session: Session) -> None:
    with pytest.raises(StormNotFound):
        report(session, storm=2_000_000)


def test_a_storm_is_reported_from_its_declaration_to_its_end(session: Session) -> None:
    storm = Storm(
        name="Yagi",
        level=2,
        phase=StormPhase.ASSESSING,
        declared_at=local(6),
        declared_by="t",
        ended_at=local(18),
    )
    session.add(storm)
    session.flush()
    session.add(
        StormEvent(
            storm_id=storm.id,
            at=local(6),
            actor="t",
            action=StormAction.DECLARED,
            details={"level": 2, "phase": "assessing"},
        )
    )
    session.flush()
    found = report(session, storm=storm.id)
    assert (found.start, found.end, len(found.timeline)) == (local(6), local(18), 12)
    assert found.storm is not None and found.storm.name == "Yagi"
    assert [(m.action, m.level) for m in found.storm.marks] == [(StormAction.DECLARED, 2)]


# The timeline


def test_customers_out_follow_the_outage_hour_by_hour(session: Session) -> None:
    incident = outage(session, "FU-A", local(8, 30))
    restore(session, incident, local(10, 15))
    found = report(session)
    assert [hour(found, local(h)).customers_out for h in (8, 9, 10, 11)] == [0, 4, 4, 0]


def test_a_nested_outage_counts_its_customers_once(session: Session) -> None:
    parent = outage(session, "BR-1", local(8, 30))
    nested = outage(session, "FU-B", local(8, 40))
    session.get_one(Incident, nested).parent_id = parent
    session.flush()
    assert hour(report(session), local(9)).customers_out == 7


def test_outages_opened_and_restored_count_in_their_hour(session: Session) -> None:
    first = outage(session, "FU-A", local(8, 5))
    outage(session, "BR-2", local(8, 55))
    restore(session, first, local(9, 10))
    found = report(session)
    assert (hour(found, local(8)).opened, hour(found, local(8)).restored) == (2, 0)
    assert (hour(found, local(9)).opened, hour(found, local(9)).restored) == (0, 1)


# Crews


def test_a_crews_shift_and_job_hours_make_its_utilisation(session: Session) -> None:
    crew = make_crew(session, shifts=[{"starts_at": local(8), "ends_at": local(16)}])
    incident = outage(session, "FU-A", local(8, 30))
    trail(session, incident, AuditAction.ASSIGNED, local(9), crew_id=crew)
    trail(session, incident, AuditAction.ON_SITE, local(10), crew_id=crew)
    restore(session, incident, local(11))
    use = next(c for c in report(session).crews if c.crew_id == crew)
    assert (use.shift_hours, use.job_hours, use.utilisation) == (8.0, 2.0, 0.25)


def test_a_crew_off_shift_with_no_job_is_not_listed(session: Session) -> None:
    tomorrow = local(6) + timedelta(days=1)
    crew = make_crew(session, shifts=[{"starts_at": tomorrow, "ends_at": tomorrow + DAY_SHIFT}])
    assert crew not in [c.crew_id for c in report(session).crews]


def test_a_crew_on_a_job_off_shift_has_no_utilisation(session: Session) -> None:
    crew = make_crew(session, shifts=[])
    incident = outage(session, "FU-A", local(8, 30))
    trail(session, incident, AuditAction.ASSIGNED, local(9), crew_id=crew)
    trail(session, incident, AuditAction.UNASSIGNED, local(9, 30), crew_id=crew)
    use = next(c for c in report(session).crews if c.crew_id == crew)
    assert (use.shift_hours, use.job_hours, use.utilisation) == (0.0, 0.5, None)


# ETRs


def test_the_first_etr_told_is_measured_against_the_restoration(session: Session) -> None:
    incident = outage(session, "FU-A", local(8))
    etr_told(session, incident, local(8, 10), local(9), earliest=local(8, 45), latest=local(9, 30))
    etr_told(session, incident, local(8, 50), local(10))
    restore(session, incident, local(9, 20))
    etr = report(session).etr
    assert (etr.restored, etr.told, etr.median_abs_error_minutes) == (1, 1, 20.0)
    assert (etr.ranged, etr.covered, etr.coverage) == (1, 1, 1.0)


def test_a_restored_outage_never_told_an_etr_is_restored_but_not_told(session: Session) -> None:
    restore(session, outage(session, "FU-A", local(8)), local(9))
    etr = report(session).etr
    assert (etr.restored, etr.told, etr.median_abs_error_minutes) == (1, 0, None)


def test_an_etr_passed_with_the_outage_on_is_a_lapse(session: Session) -> None:
    incident = outage(session, "FU-A", local(8))
    etr_told(session, incident, local(8, 10), local(9))
    etr_told(session, incident, local(9, 30), local(11))
    restore(session, incident, local(10, 30))
    etr = report(session).etr
    assert [(lapse.incident_id, lapse.deadline) for lapse in etr.lapses] == [(incident, local(9))]
    assert etr.lapsed_incidents == 1


def test_an_etr_replaced_in_time_is_no_lapse(session: Session) -> None:
    incident = outage(session, "FU-A", local(8))
    etr_told(session, incident, local(8, 10), local(9))
    etr_told(session, incident, local(8, 50), local(11))
    restore(session, incident, local(10, 30))
    assert report(session).etr.lapses == ()


# Customers told


def test_customers_first_told_within_15_minutes_count_as_told(session: Session) -> None:
    incident = outage(session, "FU-A", local(8))
    message(session, incident, "A1", local(8, 10))
    message(session, incident, "A1", local(8, 40), kind=EventKind.ETR_SET)
    message(session, incident, "A2", local(8, 20))
    message(session, incident, "A3", None)
    told = report(session).told
    assert (told.outages, told.customers_affected, told.customers_told) == (1, 4, 1)
    assert told.share == 0.25


def test_a_restored_message_does_not_tell_of_the_outage(session: Session) -> None:
    incident = outage(session, "FU-A", local(8))
    message(session, incident, "A1", local(8, 5), kind=EventKind.RESTORED)
    assert report(session).told.customers_told == 0


# Messages sent


def test_messages_sent_in_the_period_count_by_kind_and_channel(session: Session) -> None:
    incident = outage(session, "FU-A", local(8))
    message(session, incident, "A1", local(8, 5))
    message(session, incident, "A2", local(8, 6))
    message(session, incident, "A3", local(8, 7), channel=DeliveryChannel.ZALO)
    message(session, incident, "A4", None)
    message(session, incident, "A4", local(23, 59) + timedelta(minutes=5))
    counts = {(n.kind, n.channel): n.sent for n in report(session).notifications}
    assert counts == {
        (EventKind.OUTAGE_DETECTED, DeliveryChannel.SMS): 2,
        (EventKind.OUTAGE_DETECTED, DeliveryChannel.ZALO): 1,
    }
