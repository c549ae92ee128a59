"""Personal data past the retention period is erased; the records and their facts stay."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from outage.auth.models import AuditEntry, LoginThrottle
from outage.care.models import ServiceRequest, ServiceRequestEvent
from outage.cli import app
from outage.db import session_scope
from outage.incidents.changes import open_incident
from outage.incidents.enums import IncidentKind
from outage.intake.enums import Hazard
from outage.intake.models import Report
from outage.intake.photos import add_report_photo
from outage.media.enums import PhotoSource
from outage.media.errors import PhotoNotFound
from outage.media.models import Photo
from outage.media.service import add_photo, photo_bytes
from outage.notifications.enums import DeliveryStatus
from outage.notifications.models import Notification
from outage.outbox.models import NotificationEvent
from outage.privacy import ERASED
from outage.privacy.jobs import JOB_ID, jobs
from outage.privacy.retention import count_pending, cutoff_of, purge
from outage.scheduler import build_scheduler
from outage.settings import Settings
from tests.outage.media import pictures
from tests.outage.privacy.builders import (
    age_report,
    age_request,
    file_report,
    file_request,
    make_customer,
    make_message,
    reject,
)

DAYS = 365
RETENTION = timedelta(days=DAYS)


def _purge(sessions: sessionmaker[Session], **options: int) -> dict[str, int]:
    return purge(sessions, now=datetime.now(UTC), retention=RETENTION, actor="test", **options)


def _report(sessions: sessionmaker[Session], ticket: str) -> Report:
    with session_scope(sessions) as session:
        return session.scalars(select(Report).where(Report.ticket == ticket)).one()


def test_an_old_unplaced_report_loses_its_text_and_contact_but_keeps_ticket_time_and_status(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        ticket = file_report(
            session,
            phone="0912 000 111",
            email="someone@example.vn",
            address="Ngõ 5 Hàng Bông",
            zalo_user_id="8412345678901234",
        )
        age_report(session, ticket, DAYS + 1)
    before = _report(sessions, ticket)
    _purge(sessions)
    after = _report(sessions, ticket)
    assert (after.phone, after.email, after.address_given, after.description) == (None,) * 4
    assert after.zalo_user_id is None
    assert (after.ticket, after.received_at, after.status, after.channel) == (
        before.ticket,
        before.received_at,
        before.status,
        before.channel,
    )


def test_an_old_report_keeps_the_placed_customers_own_phone_and_account(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        customer = make_customer(session)
        ticket = file_report(session, account=customer.account, phone=customer.phone)
        age_report(session, ticket, DAYS + 1)
    _purge(sessions)
    after = _report(sessions, ticket)
    assert (after.account_given, after.phone, after.customer_id) == (
        customer.account,
        customer.phone,
        customer.id,
    )
    assert after.description is None


def test_a_report_within_the_retention_period_is_untouched(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        ticket = file_report(session, phone="0912 000 222", address="Phố Huế 10")
        age_report(session, ticket, DAYS - 1)
    _purge(sessions)
    after = _report(sessions, ticket)
    assert (after.phone, after.address_given, after.description) == (
        "+84912000222",
        "Phố Huế 10",
        "wires down by my gate",
    )


def test_an_old_closed_request_loses_text_details_notes_and_reason_but_keeps_its_state(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        ticket = file_request(session, phone="0912 000 333", address="Phố Huế 12")
        reject(session, ticket)
        age_request(session, ticket, DAYS + 1)
    _purge(sessions)
    with session_scope(sessions) as session:
        found = session.scalars(select(ServiceRequest).where(ServiceRequest.ticket == ticket)).one()
        notes = session.scalars(
            select(ServiceRequestEvent.note).where(ServiceRequestEvent.request_id == found.id)
        ).all()
        told = session.scalars(
            select(NotificationEvent.details).where(
                NotificationEvent.service_request_id == found.id
            )
        ).all()
    assert len(told) == 2
    assert (found.phone, found.address_given, found.description, found.details) == (
        None,
        None,
        None,
        {},
    )
    assert found.rejection_reason == ERASED and found.state == "rejected"
    assert set(notes) == {None}
    assert all("reason" not in details for details in told)


def test_an_old_open_request_is_kept_whole(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        ticket = file_request(session, phone="0912 000 444")
        age_request(session, ticket, DAYS + 1)
    _purge(sessions)
    with session_scope(sessions) as session:
        found = session.scalars(select(ServiceRequest).where(ServiceRequest.ticket == ticket)).one()
    assert (found.phone, found.description) == ("+84912000444", "my bill doubled")


def test_old_finished_messages_lose_their_address_and_pending_ones_keep_it(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        customer = make_customer(session)
        sent = make_message(session, customer, status=DeliveryStatus.SENT, days_ago=DAYS + 1)
        dead = make_message(session, customer, status=DeliveryStatus.DEAD, days_ago=DAYS + 1)
        pending = make_message(session, customer, status=DeliveryStatus.PENDING, days_ago=DAYS + 1)
    _purge(sessions)
    with session_scope(sessions) as session:
        rows = {
            m.id: m
            for m in session.scalars(
                select(Notification).where(Notification.id.in_([sent, dead, pending]))
            )
        }
    assert rows[sent].address == rows[dead].address == ERASED
    assert rows[dead].last_error is None
    assert rows[pending].address == customer.phone


def test_a_dry_run_count_matches_what_the_purge_then_erases(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        for _ in range(3):
            age_report(session, file_report(session, address="Phố Huế 14"), DAYS + 2)
        pending = count_pending(session, cutoff_of(datetime.now(UTC), RETENTION))
    assert pending["reports"] >= 3
    assert _purge(sessions, limit=2) == pending


def test_a_second_purge_erases_nothing(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        age_report(session, file_report(session, address="Phố Huế 16"), DAYS + 2)
    assert _purge(sessions)["reports"] >= 1
    assert set(_purge(sessions).values()) == {0}


def test_a_purge_is_written_to_the_audit_log_with_its_counts(
    sessions: sessionmaker[Session],
) -> None:
    counts = _purge(sessions)
    with session_scope(sessions) as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "privacy.purge")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).one()
    assert entry.actor == "test"
    assert entry.details["erased"] == counts and entry.details["retention_days"] == DAYS


def test_the_engines_scheduled_job_erases_what_is_past_retention(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        ticket = file_report(session, address="Phố Huế 18")
        age_report(session, ticket, DAYS + 1)
    scheduler = build_scheduler(sessions, Settings(), [jobs(sessions, Settings())])
    job = scheduler.get_job(JOB_ID)
    assert job is not None
    job.func()
    assert _report(sessions, ticket).address_given is None


def test_the_scheduled_job_forgets_sign_in_counts_past_their_window(
    sessions: sessionmaker[Session],
) -> None:
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        for address, last_at in (("192.0.2.1", now - timedelta(days=1)), ("192.0.2.2", now)):
            session.add(
                LoginThrottle(client_ip=address, username="clerk", failures=3, last_at=last_at)
            )
    scheduler = build_scheduler(sessions, Settings(), [jobs(sessions, Settings())])
    job = scheduler.get_job(JOB_ID)
    assert job is not None
    job.func()
    with sessions() as session:
        left = session.scalars(
            select(LoginThrottle.client_ip).where(LoginThrottle.username == "clerk")
        ).all()
    assert left == ["192.0.2.2"]


def test_purge_dry_run_prints_counts_and_erases_nothing(
    cli: CliRunner, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        ticket = file_report(session, address="Phố Huế 20")
        age_report(session, ticket, 400)
    result = cli.invoke(app, ["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    counts = dict(line.split("\t") for line in result.stdout.splitlines())
    assert int(counts["reports"]) >= 1
    with session_scope(sessions) as session:
        assert session.scalar(select(Report.address_given).where(Report.ticket == ticket))


def test_purge_prints_what_it_erased(cli: CliRunner, sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        ticket = file_report(session, address="Phố Huế 22")
        age_report(session, ticket, 400)
    result = cli.invoke(app, ["privacy", "purge"])
    assert result.exit_code == 0, result.output
    counts = dict(line.split("\t") for line in result.stdout.splitlines())
    assert int(counts["reports"]) >= 1
    with session_scope(sessions) as session:
        assert session.scalar(select(Report.address_given).where(Report.ticket == ticket)) is None


def test_an_old_customers_photo_loses_its_picture_and_a_crews_is_kept(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        ticket = file_report(session, address="Ngõ 7 Hàng Bông")
        customers = add_report_photo(
            session, ticket, pictures.picture(), source=PhotoSource.WEB, settings=Settings()
        ).id
        crews = add_photo(
            session,
            pictures.picture(colour="green"),
            source=PhotoSource.CREW,
            settings=Settings(),
            incident_id=open_incident(
                session,
                kind=IncidentKind.HAZARD,
                hazard=Hazard.TREE_ON_LINE,
                confidence=0.5,
                customers_affected=0,
                started_at=datetime.now(UTC),
                reason="retention",
            ),
        ).id
        session.execute(
            update(Photo)
            .where(Photo.id.in_([customers, crews]))
            .values(created_at=datetime.now(UTC) - timedelta(days=DAYS + 1))
        )
    assert _purge(sessions)["photos"] >= 1
    with session_scope(sessions) as session:
        with pytest.raises(PhotoNotFound):
            photo_bytes(session, customers)
        assert photo_bytes(session, crews).data
        assert session.get(Photo, customers) is not None, "the photo's facts stay"
