"""A customer's data exported and erased, with `outage customers export|erase` as an
operator runs them."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from outage.auth.models import AuditEntry
from outage.cli import app
from outage.db import session_scope
from outage.grid.models import Customer
from outage.i18n import Language
from outage.intake.models import Report
from outage.intake.photos import add_report_photo
from outage.media.enums import PhotoSource
from outage.media.errors import PhotoNotFound
from outage.media.service import photo_bytes
from outage.notifications.enums import DeliveryChannel, DeliveryStatus, SubscriptionSource
from outage.notifications.models import Notification, NotificationPreference
from outage.notifications.preferences import set_preferences
from outage.notifications.schemas import PreferencesIn
from outage.notifications.subscriptions import Actor, Target, subscribe
from outage.privacy import ERASED
from outage.settings import Settings
from tests.outage.media import pictures
from tests.outage.privacy.builders import (
    file_report,
    file_request,
    make_customer,
    make_message,
)


@pytest.fixture
def customer(sessions: sessionmaker[Session]) -> Customer:
    """A customer with a report, a request, a message and preferences."""
    with session_scope(sessions) as session:
        found = make_customer(session)
        file_report(session, account=found.account, address="Ngõ 7 Hàng Gai")
        file_request(session, phone=found.phone)
        make_message(session, found, status=DeliveryStatus.SENT, days_ago=1)
        set_preferences(session, found.account, PreferencesIn(language="en"))
        session.refresh(found)
    return found


def _latest_audit(sessions: sessionmaker[Session], action: str) -> AuditEntry:
    with session_scope(sessions) as session:
        return session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).one()


def test_export_holds_the_customers_record_reports_requests_messages_and_preferences(
    cli: CliRunner, customer: Customer
) -> None:
    result = cli.invoke(app, ["customers", "export", customer.account])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["name"], data["phone"], data["email"]) == (
        customer.name,
        customer.phone,
        customer.email,
    )
    assert [r["address_given"] for r in data["reports"]] == ["Ngõ 7 Hàng Gai"]
    assert [r["phone"] for r in data["service_requests"]] == [customer.phone]
    assert data["service_requests"][0]["events"][0]["to_state"] == "received"
    assert [m["address"] for m in data["notifications"]] == [customer.phone]
    assert data["preferences"]["language"] == "en"


def test_export_leaves_out_another_customers_report(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        other = make_customer(session)
        file_report(session, account=other.account, address="Phố của người khác")
    result = cli.invoke(app, ["customers", "export", customer.account])
    assert "Phố của người khác" not in result.stdout
    assert other.phone is not None and other.phone not in result.stdout


def test_export_leaves_out_the_contact_and_words_of_someone_else_reporting_for_them(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        file_report(
            session,
            account=customer.account,
            phone="0987 654 321",
            address="Nhà hàng xóm số 9",
            description="Neighbour Bình, call me",
        )
    result = cli.invoke(app, ["customers", "export", customer.account])
    assert result.exit_code == 0, result.output
    assert "Nhà hàng xóm số 9" not in result.stdout
    assert "Bình" not in result.stdout
    assert "987654321" not in result.stdout
    assert len(json.loads(result.stdout)["reports"]) == 2


def test_export_leaves_out_the_messages_to_a_contact_following_them(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        follower = subscribe(
            session,
            channel=DeliveryChannel.SMS,
            address="0987 000 999",
            target=Target(customer_id=customer.id),
            language=Language.VI,
            source=SubscriptionSource.AGENT,
            actor=Actor.staff("test-agent"),
            verified=True,
        )
        message = make_message(session, customer, status=DeliveryStatus.SENT, days_ago=1)
        session.execute(
            update(Notification)
            .where(Notification.id == message)
            .values(subscription_id=follower.id, address=follower.address)
        )
    result = cli.invoke(app, ["customers", "export", customer.account])
    assert result.exit_code == 0, result.output
    assert "987000999" not in result.stdout
    assert len(json.loads(result.stdout)["notifications"]) == 1


def test_export_to_a_file_is_audited_with_who_ran_it(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    target = tmp_path / "export.json"
    result = cli.invoke(app, ["customers", "export", customer.account, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["account"] == customer.account
    entry = _latest_audit(sessions, "customers.export")
    assert entry.details["account"] == customer.account and entry.actor.startswith("cli")


def test_an_unknown_account_is_refused_with_a_reason(cli: CliRunner) -> None:
    result = cli.invoke(app, ["customers", "export", "NO-SUCH-ACCOUNT"])
    assert result.exit_code == 1
    assert "no customer with account 'NO-SUCH-ACCOUNT'" in result.output


def test_erase_removes_the_customers_personal_data_and_keeps_their_tickets(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session]
) -> None:
    result = cli.invoke(app, ["customers", "erase", customer.account, "--yes"])
    assert result.exit_code == 0, result.output
    with session_scope(sessions) as session:
        erased = session.get_one(Customer, customer.id)
        reports = session.scalars(select(Report).where(Report.customer_id == customer.id)).all()
        addresses = session.scalars(
            select(Notification.address).where(Notification.customer_id == customer.id)
        ).all()
        preferences = session.get(NotificationPreference, customer.id)
    assert (erased.name, erased.phone, erased.email, erased.critical) == (ERASED, None, None, None)
    assert erased.account == customer.account and erased.premise_id == customer.premise_id
    assert [(r.address_given, r.description) for r in reports] == [(None, None)]
    assert reports[0].ticket and reports[0].premise_id == customer.premise_id
    assert addresses == [ERASED] and preferences is None
    export = json.loads(cli.invoke(app, ["customers", "export", customer.account]).stdout)
    assert customer.phone not in json.dumps(export)
    assert export["service_requests"][0]["description"] is None


def test_erase_removes_the_zalo_user_of_a_report_placed_on_the_customer(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        ticket = file_report(session, account=customer.account, zalo_user_id="8400011122")
    result = cli.invoke(app, ["customers", "erase", customer.account, "--yes"])
    assert result.exit_code == 0, result.output
    with session_scope(sessions) as session:
        erased = session.scalars(select(Report).where(Report.ticket == ticket)).one()
    assert (erased.zalo_user_id, erased.account_given) == (None, None)


def test_export_leaves_out_the_zalo_user_of_a_report_naming_their_account(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        file_report(session, account=customer.account, zalo_user_id="8400011133")
    data = json.loads(cli.invoke(app, ["customers", "export", customer.account]).stdout)
    assert "8400011133" not in json.dumps(data)


def test_erase_removes_the_photos_of_the_customers_reports(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        ticket = session.scalars(
            select(Report.ticket).where(Report.customer_id == customer.id)
        ).one()
        photo = add_report_photo(
            session, ticket, pictures.picture(), source=PhotoSource.EMAIL, settings=Settings()
        ).id
    result = cli.invoke(app, ["customers", "erase", customer.account, "--yes"])
    assert result.exit_code == 0, result.output
    with session_scope(sessions) as session, pytest.raises(PhotoNotFound):
        photo_bytes(session, photo)
    assert _latest_audit(sessions, "customers.erase").details["erased"]["photos"] == 1


def test_erase_is_audited_with_who_ran_it_and_what_it_erased(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session]
) -> None:
    cli.invoke(app, ["customers", "erase", customer.account, "--yes"])
    entry = _latest_audit(sessions, "customers.erase")
    assert entry.details["account"] == customer.account and entry.actor.startswith("cli")
    assert entry.details["erased"]["reports"] == 1


def test_erase_asks_first_and_a_no_changes_nothing(
    cli: CliRunner, customer: Customer, sessions: sessionmaker[Session]
) -> None:
    result = cli.invoke(app, ["customers", "erase", customer.account], input="n\n")
    assert result.exit_code == 1 and "Erase the personal data" in result.output
    with session_scope(sessions) as session:
        assert session.get_one(Customer, customer.id).name == customer.name
