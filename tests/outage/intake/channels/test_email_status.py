"""Status questions by e-mail: real SMTP in, the report's progress back to its own address."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from outage.db import session_factory, session_scope
from outage.i18n import Language
from outage.incidents.progress import report_progress
from outage.intake.channels.email import MailReply
from outage.intake.models import Report
from outage.intake.progress import describe
from outage.settings import Settings

from .conftest import file, mail, send

PersonMaker = Callable[..., Any]


def _reply_to(replies: list[MailReply], message_id: str) -> MailReply:
    (reply,) = [r for r in replies if r.key == f"email-status:{message_id}"]
    return reply


def _progress_text(database: str, ticket: str, language: Language, settings: Settings) -> str:
    with session_scope(session_factory(database)) as session:
        progress = report_progress(session, ticket)
        assert progress is not None
        return describe(progress, language, settings.local_timezone)


def _reports_from(database: str, email: str) -> int:
    with session_scope(session_factory(database)) as session:
        return session.scalar(select(func.count()).where(func.lower(Report.email) == email.lower()))


@pytest.mark.parametrize(
    ("language", "question"), [("vi", "Trạng thái {ticket}"), ("en", "status {ticket}")]
)
def test_the_reports_own_address_gets_its_progress_in_the_customers_language(
    smtp_port: int,
    person: PersonMaker,
    mail_replies: list[MailReply],
    channels_database: str,
    channels_settings: Settings,
    language: str,
    question: str,
) -> None:
    customer = person(email=True, language=language)
    ticket = file(smtp_port, mail(customer.email, "Mất điện", "Nhà tôi mất điện."))
    asked = mail(customer.email, question.format(ticket=ticket.lower()), "")
    code, answer = send(smtp_port, asked)
    assert code == 250, answer
    reply = _reply_to(mail_replies, str(asked["Message-ID"]))
    assert reply.to == customer.email
    assert ticket in reply.subject
    expected = _progress_text(channels_database, ticket, Language(language), channels_settings)
    assert reply.body == expected


def test_a_status_question_in_the_first_line_is_answered_and_files_nothing(
    smtp_port: int, person: PersonMaker, mail_replies: list[MailReply], channels_database: str
) -> None:
    customer = person(email=True, language="en")
    ticket = file(smtp_port, mail(customer.email, "No power", "Since noon."))
    before = _reports_from(channels_database, customer.email)
    asked = mail(customer.email, "Re: my outage", f"\nTRANGTHAI {ticket}\n\nThanks")
    code, answer = send(smtp_port, asked)
    assert code == 250 and "answered" in answer
    assert ticket in _reply_to(mail_replies, str(asked["Message-ID"])).body
    assert _reports_from(channels_database, customer.email) == before


def test_another_address_is_told_only_how_to_ask(
    smtp_port: int, person: PersonMaker, mail_replies: list[MailReply]
) -> None:
    owner, stranger = person(email=True, language="en"), person(email=True, language="en")
    ticket = file(smtp_port, mail(owner.email, "No power", "Since noon."))
    asked = mail(stranger.email, f"STATUS {ticket}", "")
    send(smtp_port, asked)
    reply = _reply_to(mail_replies, str(asked["Message-ID"]))
    assert reply.to == stranger.email
    assert reply.body == (
        f"Ticket {ticket}: received. For its progress, write STATUS {ticket} from the e-mail "
        "address that reported it."
    )
    assert owner.email not in reply.body and owner.account not in reply.body


def test_without_a_ticket_the_newest_report_from_the_address_is_meant(
    smtp_port: int, person: PersonMaker, mail_replies: list[MailReply]
) -> None:
    customer = person(email=True, language="vi")
    file(smtp_port, mail(customer.email, "Mất điện", "Từ sáng."))
    newest = file(smtp_port, mail(customer.email, "Mất điện lần nữa", "Từ trưa."))
    asked = mail(customer.email, "TRANG THAI", "")
    send(smtp_port, asked)
    assert newest in _reply_to(mail_replies, str(asked["Message-ID"])).body


def test_an_unknown_ticket_is_said_to_be_unknown(
    smtp_port: int, person: PersonMaker, mail_replies: list[MailReply]
) -> None:
    customer = person(email=True, language="en")
    asked = mail(customer.email, "STATUS 990101-ZZZZZ", "")
    send(smtp_port, asked)
    assert _reply_to(mail_replies, str(asked["Message-ID"])).body == (
        "No report with ticket 990101-ZZZZZ."
    )


@pytest.mark.parametrize(
    "subject", ["Status: no power since 8am at our street", "Trạng thái: mất điện từ sáng"]
)
def test_a_report_whose_subject_starts_with_the_keyword_is_filed(
    smtp_port: int, person: PersonMaker, channels_database: str, subject: str
) -> None:
    customer = person(email=True)
    before = _reports_from(channels_database, customer.email)
    file(smtp_port, mail(customer.email, subject, f"Account {customer.account}."))
    assert _reports_from(channels_database, customer.email) == before + 1
