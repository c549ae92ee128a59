"""The chains against a database someone changed by hand: each change is named."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from outage.care import owners
from outage.care.enums import TrailKind
from outage.care.models import ServiceRequest, ServiceRequestEvent
from outage.care.schemas import OwnerIn
from outage.care.service import rate_request, set_owner
from outage.care.supervision import escalate
from outage.db import session_scope
from outage.grid.models import Customer
from outage.incidents.changes import cancel, open_incident
from outage.incidents.models import IncidentEvent
from outage.ledger.sealing import seal
from outage.ledger.verification import ChainCheck, verify
from outage.notifications.enums import DeliveryStatus
from outage.notifications.models import Notification
from outage.privacy.customers import erase_customer
from outage.settings import get_settings
from tests.outage.privacy.builders import file_request, make_customer, make_message, reject

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Records:
    incident_events: list[int]
    request_events: list[int]
    messages: list[int]
    account: str


def _ids(session: Session, column: object, *where: object) -> list[int]:
    return list(session.scalars(select(column).where(*where).order_by(column)))  # type: ignore[call-overload]


def _write(sessions: sessionmaker[Session]) -> Records:
    with session_scope(sessions) as session:
        for device in ("LV4.301 Switch 60", "LV4.301 Switch 61"):
            incident = open_incident(
                session,
                device_asset_ref=device,
                confidence=0.9,
                customers_affected=3,
                started_at=NOW - timedelta(minutes=20),
                reason="calls",
            )
            cancel(session, incident, reason="false alarm")
        customer = make_customer(session)
        ticket = file_request(session, phone=customer.phone)
        reject(session, ticket)
        rate_request(session, ticket, rating=2, comment="nobody called me back")
        for days in (2, 1):
            make_message(session, customer, status=DeliveryStatus.SENT, days_ago=days)
        make_message(session, customer, status=DeliveryStatus.PENDING, days_ago=0)
        return Records(
            _ids(session, IncidentEvent.id),
            _ids(session, ServiceRequestEvent.id),
            _ids(session, Notification.id, Notification.status == DeliveryStatus.SENT),
            customer.account,
        )


def _customer(session: Session, account: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.account == account)).one()


@pytest.fixture
def records(sessions: sessionmaker[Session]) -> Records:
    written = _write(sessions)
    with session_scope(sessions) as session:
        seal(session, NOW)
    return written


def _checks(sessions: sessionmaker[Session]) -> dict[str, ChainCheck]:
    with session_scope(sessions) as session:
        return {check.chain: check for check in verify(session)}


def _tamper(sessions: sessionmaker[Session], sql: str, **values: object) -> None:
    with session_scope(sessions) as session:
        session.execute(text(sql), values)


def test_an_untouched_database_verifies_every_sealed_row(
    sessions: sessionmaker[Session], records: Records
) -> None:
    checks = _checks(sessions)
    assert all(check.broken is None for check in checks.values())
    assert [checks[name].checked for name in ("incident_events", "service_request_events")] == [
        len(records.incident_events),
        len(records.request_events),
    ]
    assert (checks["sent_messages"].checked, checks["sent_messages"].waiting) == (2, 0)


def test_a_changed_incident_event_is_named(
    sessions: sessionmaker[Session], records: Records
) -> None:
    changed = records.incident_events[1]
    _tamper(sessions, "UPDATE incident_events SET reason = 'nothing' WHERE id = :id", id=changed)
    broken = _checks(sessions)["incident_events"].broken
    assert broken is not None and broken.row_id == changed


def test_a_deleted_request_event_names_the_row_after_it(
    sessions: sessionmaker[Session], records: Records
) -> None:
    first, second, *_ = records.request_events
    _tamper(sessions, "DELETE FROM service_request_events WHERE id = :id", id=first)
    broken = _checks(sessions)["service_request_events"].broken
    assert broken is not None and (broken.row_id, broken.seq) == (second, 1)


def test_a_deleted_last_message_is_found_against_the_chains_head(
    sessions: sessionmaker[Session], records: Records
) -> None:
    _tamper(sessions, "DELETE FROM notifications WHERE id = :id", id=records.messages[-1])
    broken = _checks(sessions)["sent_messages"].broken
    assert broken is not None and (broken.row_id, broken.seq) == (None, 2)


def test_events_reordered_in_time_are_named(
    sessions: sessionmaker[Session], records: Records
) -> None:
    first, second, *_ = records.incident_events
    _tamper(
        sessions,
        "UPDATE incident_events AS e SET at = o.at FROM incident_events AS o"
        " WHERE (e.id, o.id) IN ((:a, :b), (:b, :a))",
        a=first,
        b=second,
    )
    broken = _checks(sessions)["incident_events"].broken
    assert broken is not None and broken.row_id == first


def test_events_swapped_in_the_chain_are_named(
    sessions: sessionmaker[Session], records: Records
) -> None:
    first, second, *_ = records.incident_events
    _tamper(
        sessions,
        "UPDATE incident_events SET chain_seq = -chain_seq WHERE id IN (:a, :b);"
        " UPDATE incident_events AS e SET chain_seq = -o.chain_seq FROM incident_events AS o"
        " WHERE (e.id, o.id) IN ((:a, :b), (:b, :a))",
        a=first,
        b=second,
    )
    broken = _checks(sessions)["incident_events"].broken
    assert broken is not None and broken.row_id == second


def test_a_message_sent_to_another_address_is_named(
    sessions: sessionmaker[Session], records: Records
) -> None:
    changed = records.messages[0]
    _tamper(
        sessions, "UPDATE notifications SET address = '+84900000000' WHERE id = :id", id=changed
    )
    broken = _checks(sessions)["sent_messages"].broken
    assert broken is not None and broken.row_id == changed and "personal" in broken.reason


def test_erasing_a_customer_keeps_every_chain_whole(
    sessions: sessionmaker[Session], records: Records
) -> None:
    with session_scope(sessions) as session:
        erase_customer(session, records.account)
    checks = _checks(sessions)
    assert all(check.broken is None for check in checks.values())
    with session_scope(sessions) as session:
        kept = session.scalars(
            select(Notification.chain_salt).where(Notification.id.in_(records.messages))
        ).all()
        notes = session.scalars(
            select(ServiceRequestEvent.note)
            .join(ServiceRequest, ServiceRequest.id == ServiceRequestEvent.request_id)
            .where(ServiceRequestEvent.id.in_(records.request_events))
        ).all()
    assert kept == [None, None] and set(notes) == {None}


def test_records_written_after_sealing_wait_for_the_next_run(
    sessions: sessionmaker[Session], records: Records
) -> None:
    with session_scope(sessions) as session:
        open_incident(
            session,
            device_asset_ref="LV4.301 Switch 72",
            confidence=0.9,
            customers_affected=1,
            started_at=NOW,
            reason="calls",
        )
    assert _checks(sessions)["incident_events"].waiting == 1
    with session_scope(sessions) as session:
        sealed = {s.chain: s for s in seal(session, NOW)}
    check = _checks(sessions)["incident_events"]
    assert sealed["incident_events"].rows == 1
    assert (check.waiting, check.checked, check.broken) == (
        0,
        len(records.incident_events) + 1,
        None,
    )


def test_a_row_being_erased_is_left_for_the_next_run_and_sealed_as_erased(
    sessions: sessionmaker[Session], records: Records
) -> None:
    with session_scope(sessions) as erasing:
        make_message(
            erasing, _customer(erasing, records.account), status=DeliveryStatus.SENT, days_ago=0
        )
    with session_scope(sessions) as erasing:
        erase_customer(erasing, records.account)
        with session_scope(sessions) as sealing:
            assert {s.chain: s.rows for s in seal(sealing, NOW)}["sent_messages"] == 0
    with session_scope(sessions) as sealing:
        assert {s.chain: s.rows for s in seal(sealing, NOW)}["sent_messages"] == 1
    assert all(check.broken is None for check in _checks(sessions).values())


def test_a_check_since_a_day_reads_only_the_rows_from_that_day_on(
    sessions: sessionmaker[Session], records: Records
) -> None:
    changed = records.incident_events[-1]
    _tamper(sessions, "UPDATE incident_events SET reason = 'nothing' WHERE id = :id", id=changed)
    with session_scope(sessions) as session:
        later = {c.chain: c for c in verify(session, datetime.now(UTC) + timedelta(days=1))}
    with session_scope(sessions) as session:
        today = {c.chain: c for c in verify(session, datetime.now(UTC) - timedelta(days=1))}
    assert (later["incident_events"].checked, later["incident_events"].broken) == (0, None)
    broken = today["incident_events"].broken
    assert broken is not None and broken.row_id == changed


def test_owner_warning_and_escalation_rows_are_sealed_beside_older_rows(
    sessions: sessionmaker[Session], records: Records
) -> None:
    """Rows sealed before the owner columns existed read NULL there and still verify; the
    new rows, which fill them, are sealed with them, and a changed owner is named."""
    settings = get_settings().model_copy(update={"care_tell_handover": True})
    with session_scope(sessions) as session:
        owners.save_team(session, "sealed-team", supervisor="sup")
        ticket = file_request(session, phone="0912000111")
        request_id = session.scalars(
            select(ServiceRequest.id).where(ServiceRequest.ticket == ticket)
        ).one()
        set_owner(session, ticket, OwnerIn(team="sealed-team"), actor="agent", settings=settings)
        escalate(session, settings, datetime.now(UTC) + timedelta(days=30))
    with session_scope(sessions) as session:
        seal(session, NOW)
    checks = _checks(sessions)
    assert checks["service_request_events"].broken is None
    with session_scope(sessions) as session:
        kinds = {
            kind: row_id
            for kind, row_id in session.execute(
                select(ServiceRequestEvent.kind, ServiceRequestEvent.id).where(
                    ServiceRequestEvent.request_id == request_id
                )
            )
        }
    assert {TrailKind.ASSIGNED, TrailKind.ESCALATED} <= set(kinds)
    assert checks["service_request_events"].checked == len(records.request_events) + len(kinds)
    _tamper(
        sessions,
        "UPDATE service_request_events SET owner_team = 'another' WHERE id = :id",
        id=kinds[TrailKind.ASSIGNED],
    )
    broken = _checks(sessions)["service_request_events"].broken
    assert broken is not None and broken.row_id == kinds[TrailKind.ASSIGNED]


def test_a_customers_rating_is_sealed_in_the_trail_and_a_changed_one_is_named(
    sessions: sessionmaker[Session], records: Records
) -> None:
    with session_scope(sessions) as session:
        rated = session.scalars(
            select(ServiceRequestEvent).where(ServiceRequestEvent.rating.is_not(None))
        ).one()
        assert (rated.rating, rated.note, rated.chain_seq) == (2, "nobody called me back", 3)
    _tamper(sessions, "UPDATE service_request_events SET rating = 5 WHERE id = :id", id=rated.id)
    broken = _checks(sessions)["service_request_events"].broken
    assert broken is not None and broken.row_id == rated.id
