"""The e-mail receiver: real SMTP in, reports out."""

import smtplib
import socket
import uuid
from collections.abc import Callable
from email.utils import make_msgid
from typing import Any

import pytest
from sqlalchemy import select

from outage.cli.serve import _mail_receiver, _mail_replies
from outage.db import session_factory, session_scope
from outage.intake.channels import email as email_channel
from outage.intake.channels.email import MailReply, html_to_text, own_words, read_message
from outage.intake.channels.hazards import Guess, classify
from outage.intake.models import Report
from outage.media.enums import PhotoSource
from outage.media.models import Photo
from outage.notifications.channels import Gateways, Outgoing
from outage.settings import Settings
from tests.outage.media import pictures

from .conftest import CARE_MAILBOX, MAX_BYTES, file, mail, send, send_raw

PersonMaker = Callable[..., Any]
"""The `person` fixture: a fresh sample-grid customer."""
RowFinder = Callable[[str], dict[str, Any]]


def test_mail_from_a_customers_address_is_matched_by_email(
    smtp_port: int, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person(email=True)
    row = report_row(file(smtp_port, mail(customer.email, "Mất điện", "Nhà tôi mất điện từ 7h.")))
    assert (row["channel"], row["status"], row["match_method"]) == ("email", "received", "email")
    assert row["premise"] == customer.premise
    assert row["description"] == "Mất điện\n\nNhà tôi mất điện từ 7h."


def test_account_after_a_vietnamese_label_wins(
    smtp_port: int, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person()
    body = f"Kính gửi công ty,\nMã KH: {customer.account}. Mất điện cả buổi sáng."
    row = report_row(file(smtp_port, mail("someone@example.org", "Báo mất điện", body)))
    assert (row["match_method"], row["premise"]) == ("account", customer.premise)


def test_known_account_anywhere_in_the_text_is_found(
    smtp_port: int, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person()
    subject = f"No power at {customer.account}"
    row = report_row(file(smtp_port, mail("someone@example.org", subject, "Since 6 am.")))
    assert (row["match_method"], row["account_given"]) == ("account", customer.account)


def test_unknown_sender_alone_is_stored_for_an_agent(smtp_port: int, report_row: RowFinder) -> None:
    sender = f"{uuid.uuid4().hex[:8]}@example.org"
    row = report_row(file(smtp_port, mail(sender, "Help", "The lights are out on our street.")))
    assert (row["status"], row["match_method"], row["email"]) == ("needs_agent", "none", sender)


def test_address_line_becomes_the_address_and_leaves_the_description(
    smtp_port: int, report_row: RowFinder
) -> None:
    body = "Cột điện bị đổ.\nĐịa chỉ: 12 Ngõ 5 Láng Hạ, Đống Đa\nCảm ơn."
    row = report_row(file(smtp_port, mail("someone@example.org", "Sự cố", body)))
    assert row["address_given"] == "12 Ngõ 5 Láng Hạ, Đống Đa"
    assert row["description"] == "Sự cố\n\nCột điện bị đổ.\nCảm ơn."


def test_image_attachments_are_the_reports_photos_and_others_are_passed_over(
    smtp_port: int, channels_database: str, report_row: RowFinder
) -> None:
    message = mail("someone@example.org", "Cột đổ", "Cột điện đổ trước nhà.\nĐịa chỉ: 9 Ngõ 3")
    message.add_attachment(pictures.jpeg_with_gps(), maintype="image", subtype="jpeg")
    message.add_attachment(pictures.pdf(), maintype="application", subtype="pdf")
    message.add_attachment(b"not an image at all", maintype="image", subtype="png")
    message.add_attachment(pictures.picture("PNG"), maintype="application", subtype="x-stuff")
    ticket = file(smtp_port, message)
    assert report_row(ticket)["address_given"] == "9 Ngõ 3"
    with session_scope(session_factory(channels_database)) as session:
        kept = session.execute(
            select(Photo.content_type, Photo.source)
            .join(Report, Report.id == Photo.report_id)
            .where(Report.ticket == ticket)
            .order_by(Photo.id)
        ).all()
    assert [tuple(row) for row in kept] == [
        ("image/jpeg", PhotoSource.EMAIL),
        ("image/png", PhotoSource.EMAIL),
    ]


def test_images_past_a_reports_most_photos_are_not_looked_at(
    smtp_port: int, channels_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    most = channels_settings.photo_max_per_report
    tried: list[bytes] = []
    keep = email_channel.add_report_photo

    def spy(session: Any, ticket: str, data: bytes, **kwargs: Any) -> Any:
        tried.append(data)
        return keep(session, ticket, data, **kwargs)

    monkeypatch.setattr(email_channel, "add_report_photo", spy)
    message = mail("someone@example.org", "Cột đổ", "Cột điện đổ trước nhà.\nĐịa chỉ: 9 Ngõ 3")
    message.add_attachment(pictures.pdf(), maintype="application", subtype="pdf")
    sent = [pictures.picture("PNG", size=(10 + n, 10)) for n in range(most + 2)]
    for data in sent:
        message.add_attachment(data, maintype="image", subtype="png")
    file(smtp_port, message)
    assert tried == [pictures.pdf(), *sent[:most]]


def test_same_message_id_is_filed_once(
    smtp_port: int, person: PersonMaker, count_reports: Callable[[str], int]
) -> None:
    customer = person(email=True)
    message_id = make_msgid(domain="example.net")
    first = send(smtp_port, mail(customer.email, "Outage", "No power", message_id))
    again = send(smtp_port, mail(customer.email, "Outage", "No power", message_id))
    assert first == again
    assert count_reports(f"email:{message_id}") == 1


def test_message_id_reused_for_other_text_is_filed_too(
    smtp_port: int, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person(email=True)
    message_id = make_msgid(domain="example.net")
    first = file(smtp_port, mail(customer.email, "Outage", "No power", message_id))
    second = file(smtp_port, mail(customer.email, "Outage", "Wires down too", message_id))
    assert first != second
    assert report_row(second)["description"] == "Outage\n\nWires down too"


def test_html_only_message_is_read_without_its_tags(
    smtp_port: int, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person(email=True)
    message = mail(customer.email, "Outage", "")
    message.set_content(
        "<html><head><style>p {color: red}</style></head><body><p>No power</p>"
        "<p>since <b>8&nbsp;pm</b></p><blockquote>old thread</blockquote></body></html>",
        subtype="html",
    )
    row = report_row(file(smtp_port, message))
    assert row["description"] == "Outage\n\nNo power\n\nsince 8 pm"


def test_oversize_message_is_refused(smtp_port: int, person: PersonMaker) -> None:
    customer = person(email=True)
    body = "No power in the whole street.\n" * (MAX_BYTES // 30 + 1)
    code, _ = send(smtp_port, mail(customer.email, "Outage", body))
    assert code == 552


def test_message_without_any_clue_is_refused(smtp_port: int) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
        client.ehlo()
        client.mail("")
        client.rcpt(CARE_MAILBOX)
        code, _ = client.data(b"Subject: hello\r\n\r\nno power\r\n")
    assert code == 550


def nested_mime(depth: int) -> bytes:
    """A message whose text sits inside `depth` nested multipart parts."""
    levels = "".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n" for i in range(depth)
    )
    head = "From: someone@example.org\r\nSubject: Outage\r\n"
    return f"{head}{levels}Content-Type: text/plain\r\n\r\nNo power\r\n".encode()


def test_message_with_a_nul_byte_is_refused_for_good(smtp_port: int) -> None:
    data = b"From: someone@example.org\r\nSubject: Outage\r\n\r\nNo\x00 power\r\n"
    code, answer = send_raw(smtp_port, data)
    assert (code, "NUL" in answer) == (554, True), answer


def test_text_decoding_to_a_nul_is_refused_for_good(smtp_port: int) -> None:
    message = mail("someone@example.org", "Outage", "")
    message.set_content("No\x00 power", cte="base64")
    code, answer = send(smtp_port, message)
    assert (code, "NUL" in answer) == (554, True), answer


def test_mime_nested_too_deep_is_refused_for_good(smtp_port: int) -> None:
    code, answer = send_raw(smtp_port, nested_mime(500))
    assert (code, "nested" in answer) == (554, True), answer


def test_mime_nested_past_the_parsers_recursion_is_refused_for_good(roomy_smtp_port: int) -> None:
    code, answer = send_raw(roomy_smtp_port, nested_mime(3000))
    assert (code, "nested" in answer) == (554, True), answer


def test_mime_nested_a_few_levels_is_filed(smtp_port: int, report_row: RowFinder) -> None:
    code, answer = send_raw(smtp_port, nested_mime(3))
    assert code == 250, answer
    assert report_row(answer.rsplit(" ", 1)[-1])["description"] == "Outage\n\nNo power"


# Reading messages, without the database.


def test_quoted_replies_and_signatures_are_trimmed() -> None:
    body = (
        "Still no power.\n\n> We received your report.\n> Ticket 261125-ABCDE\n"
        "-- \nNguyen Van A\n0912345678"
    )
    assert own_words(body) == "Still no power."
    gmail_vi = "Vẫn mất điện.\n\nVào Th 2, 24 thg 11, 2025 lúc 10:00 CSKH <a@b.vn> đã viết:\nabc"
    assert own_words(gmail_vi) == "Vẫn mất điện."


def test_plain_text_part_is_preferred_to_html() -> None:
    message = mail("a@example.com", "Outage", "plain words")
    message.add_alternative("<p>html words</p>", subtype="html")
    assert read_message(message.as_bytes()).body == "plain words"


def test_envelope_sender_stands_in_for_a_broken_from() -> None:
    raw = b"From: not an address\r\nSubject: x\r\n\r\nno power\r\n"
    assert read_message(raw, "kh@example.com").sender == "kh@example.com"


def test_html_blocks_become_lines() -> None:
    assert html_to_text("<div>a</div><div>b<br>c</div>") == "a\n\nb\nc"


# Beside the HTTP server.


def test_serve_runs_the_receiver_and_stops_it(
    channels_database: str, channels_settings: Settings
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = channels_settings.model_copy(update={"smtp_receiver_port": port})
    with _mail_receiver(channels_database, settings) as where:
        assert where == f"smtp://127.0.0.1:{port}"
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            assert client.noop()[0] == 250
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


# Hazards.

HazardFinder = Callable[[str], Any]
"""The `hazard_incident` fixture: the hazard incident a ticket's report is on, or None."""


@pytest.mark.parametrize(
    ("subject", "body", "hazard"),
    [
        ("Dây điện đứt", "Dây điện bị đứt rơi xuống đường trước nhà tôi.", "wires_down"),
        ("Day dien dut", "Day dien bi dut roi xuong duong truoc nha toi.", "wires_down"),
        ("Danger", "The pole outside is sparking and there is smoke.", "fire"),
    ],
)
def test_hazard_by_mail_opens_its_hazard_incident_before_the_answer(
    smtp_port: int,
    person: PersonMaker,
    report_row: RowFinder,
    hazard_incident: HazardFinder,
    subject: str,
    body: str,
    hazard: str,
) -> None:
    """The receiver opens the hazard incident in the transaction that files the report
    (`after_filing`, `open_filed_hazard` as `outage serve` wires it), so it is committed
    before the server answers 250: read right after the answer, with no engine running."""
    customer = person(email=True)
    ticket = file(smtp_port, mail(customer.email, subject, body))
    assert report_row(ticket)["hazard"] == hazard
    found = hazard_incident(ticket)
    assert found is not None
    assert (found.hazard, found.premise) == (hazard, customer.premise)


@pytest.mark.parametrize(
    ("language", "subject", "safety"),
    [
        ("vi", "Dây điện đứt", "tránh xa ít nhất 10 mét"),
        ("en", "Wires down", "stay at least 10 metres away"),
    ],
)
def test_hazard_by_mail_is_answered_with_the_safety_advice(
    smtp_port: int,
    person: PersonMaker,
    mail_replies: list[MailReply],
    language: str,
    subject: str,
    safety: str,
) -> None:
    customer = person(email=True, language=language)
    ticket = file(smtp_port, mail(customer.email, subject, "Ngay trước nhà / outside."))
    (reply,) = [r for r in mail_replies if r.key == f"email-reply:{ticket}"]
    assert reply.to == customer.email
    assert ticket in reply.body and safety in reply.body


@pytest.mark.parametrize(
    ("language", "subject"), [("vi", "Báo nguy hiểm {ticket}"), ("en", "Hazard report {ticket}")]
)
def test_hazard_reply_has_our_own_subject_never_the_senders(
    smtp_port: int,
    person: PersonMaker,
    mail_replies: list[MailReply],
    language: str,
    subject: str,
) -> None:
    """The From address is not verified: a reply must not carry the sender's words to it."""
    customer = person(email=True, language=language)
    spam = "Dây điện đứt <a href='http://spam.example'>WIN A PRIZE</a>"
    ticket = file(smtp_port, mail(customer.email, spam, "wires down"))
    (reply,) = [r for r in mail_replies if r.key == f"email-reply:{ticket}"]
    assert reply.subject == subject.format(ticket=ticket)
    assert "spam" not in reply.body and "PRIZE" not in reply.body


def test_mail_reply_goes_to_the_html_gateway_escaped(
    channels_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[Outgoing] = []
    monkeypatch.setattr(Gateways, "send", lambda self, message: sent.append(message))
    settings = channels_settings.model_copy(update={"notify_email_url": "mailto://u:p@example.com"})
    send_reply = _mail_replies(settings)
    assert send_reply is not None
    send_reply(MailReply("a@example.com", "Hazard report T", "1 < 2 & <b>", key="k"))
    assert [m.body for m in sent] == ["1 &lt; 2 &amp; &lt;b&gt;"]


def test_hazard_mail_delivered_twice_is_answered_once(
    smtp_port: int, person: PersonMaker, mail_replies: list[MailReply]
) -> None:
    message = mail(person(email=True).email, "Dây điện đứt", "Trước nhà.")
    ticket = file(smtp_port, message)
    assert file(smtp_port, message) == ticket
    assert len([r for r in mail_replies if r.key == f"email-reply:{ticket}"]) == 1


def test_large_hazard_mail_is_classified_once(
    roomy_smtp_port: int, person: PersonMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However long the body, its words are read once, and only as far as TEXT_MAX."""
    lengths: list[int] = []

    def counting(text: str) -> Guess:
        lengths.append(len(text))
        return classify(text)

    monkeypatch.setattr(email_channel, "classify", counting)
    body = "Dây điện đứt. " + "khong chay " * 50_000
    ticket = file(roomy_smtp_port, mail(person(email=True).email, "Nguy hiểm", body))
    assert ticket
    assert len(lengths) == 1


def test_outage_by_mail_gets_no_reply(
    smtp_port: int, person: PersonMaker, mail_replies: list[MailReply]
) -> None:
    ticket = file(smtp_port, mail(person(email=True).email, "Mất điện", "Từ 7h sáng."))
    assert not [r for r in mail_replies if ticket in r.key]


def test_outage_mail_opens_no_hazard_incident(
    smtp_port: int, person: PersonMaker, report_row: RowFinder, hazard_incident: HazardFinder
) -> None:
    customer = person(email=True)
    ticket = file(smtp_port, mail(customer.email, "Mất điện", "Không cháy, chỉ mất điện."))
    assert report_row(ticket)["hazard"] is None
    assert hazard_incident(ticket) is None
