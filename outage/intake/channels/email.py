"""Outage reports by e-mail: an SMTP receiver (aiosmtpd) that files every message.

The utility's mail server forwards the care-centre mailbox to this receiver. Each
message becomes a report: the sender's address is the customer's e-mail, an account
number in the subject or body (after a label such as "account", "tài khoản", "mã KH",
or any words that are a known account), an "address:" / "địa chỉ:" line, and the text,
without quoted replies and signatures, as the description; its attachments that are
images (JPEG, PNG, WebP, by their bytes) as its photos, others passed over. The
Message-ID is the idempotency key, so a message delivered twice is filed once. The
subject and the body are read for a hazard (`outage.intake.channels.hazards`): one likely enough
(`hazard_likely_confidence`) is filed as a hazard, and the receiver's `after_filing`
opens its hazard incident in the same transaction; once committed, the safety advice
goes back to the sender through `send_reply` (the notifications' e-mail gateway), once:
a redelivered message is not answered again.

A message whose subject, or its body's first line, is a status question as an SMS would
put it (`TRANGTHAI <ticket>`, `STATUS <ticket>`, accent- and case-blind) files nothing:
it is answered with the report's progress (`describe`, through the `progress` reader the
caller gives, as the SMS webhook does), in the customer's language, and only when the
asking address is the report's own (given with it, or registered to its customer);
anyone else is told how its customer may ask. Without a ticket, the newest report from
the address is meant.

A message no clue places is still stored, for an agent (the service queues it). Refused
for good, so the sending server bounces it rather than retrying: messages over the size
limit (552, from aiosmtpd, which also announces the limit as SIZE), messages that cannot
be read (554: NUL bytes, MIME nested deeper than MAX_MIME_DEPTH, a structure the parser
cannot follow) and messages with nothing to go on, not even a sender address (550). Only
a failure on our side (the database) answers 451, so the server keeps the message and
retries.
"""

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

from aiosmtpd.controller import Controller
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_scope
from outage.errors import DomainError, Invalid
from outage.intake.channels import lookup
from outage.intake.channels.answers import hazard_reply, status_reply
from outage.intake.channels.common import (
    DESCRIPTION_MAX,
    clip,
    fold,
    idempotency_key,
    looks_like_account,
    nfc,
)
from outage.intake.channels.hazards import Guess, classify
from outage.intake.channels.sms import Intent, SmsCommand, is_ticket, normalize_ticket, parse
from outage.intake.channels.texts import render
from outage.intake.enums import Channel
from outage.intake.photos import add_report_photo
from outage.intake.progress import ProgressSource
from outage.intake.schemas import ReceiptOut, ReportIn
from outage.intake.service import (
    IdempotencyConflict,
    Submission,
    status_emails,
    submit_report,
)
from outage.media.enums import PhotoSource
from outage.media.errors import NotAnImage
from outage.settings import Settings

log = logging.getLogger(__name__)

ADDRESS_MAX = 300
ACCOUNT_WORDS_MAX = 4
"""Accounts may hold spaces ('LV4.301 Load 1'): runs of up to this many words are tried."""
SCANNED_WORDS_MAX = 400
"""Only this many leading words of a message are searched for known accounts."""

MAX_MIME_DEPTH = 20
"""Deeper nesting of multipart parts is refused; real mail nests a handful."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Patterns run on accent-folded text, so "tài khoản" and "tai khoan" are one.
_ACCOUNT_LABEL = re.compile(
    r"\b(?:account(?:\s+(?:no|number|id))?|acct|customer\s+(?:no|number|id)|tai\s+khoan"
    r"|ma\s+khach\s+hang|ma\s+kh|so\s+hop\s+dong)\b\.?(?:\s+(?:is|la|so)\b)?\s*[:#]?\s*"
    r"(?P<value>[A-Za-z0-9][^\n,;]*)",
    re.IGNORECASE,
)
_ADDRESS_LINE = re.compile(
    r"^[ \t]*(?:address|addr|dia\s+chi)[ \t]*:[ \t]*(?P<value>\S.*?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# Where the customer's own words end: quoted earlier mail, signatures, client banners.
_TAIL_STARTS = re.compile(
    r"^(?:--$|_{10,}$|-{3,}\s*(?:original message|forwarded message)"
    r"|on\s.+\swrote:$|vao\s.+\sda viet:$|from:\s.*@|sent from my\s|get outlook for\s"
    r"|gui tu (?:iphone|android|samsung|dien thoai|thiet bi))",
    re.IGNORECASE,
)
_WORD_EDGES = "\"'()[]<>.,;:!?"


class UnreadableMessage(Invalid, ValueError):
    """A message that no retry will make readable; the reason goes back to the sender."""


@dataclass(frozen=True)
class MailReport:
    """What a message tells us, before any database lookup."""

    sender: str | None
    message_id: str | None
    subject: str
    body: str
    attachments: tuple[bytes, ...] = ()
    """Every part besides the text, decoded: the images among them are the report's
    photos (decided from their bytes, not their declared types)."""

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.body}".strip()


class _TextOfHtml(HTMLParser):
    _BLOCKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    _HIDDEN = frozenset({"script", "style", "head", "title", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def own_words(body: str) -> str:
    """The body without quoted replies, signatures and mail-client banners."""
    kept: list[str] = []
    for line in body.splitlines():
        stripped = line.strip()
        if any(kept) and _TAIL_STARTS.match(fold(stripped)):
            break
        if not stripped.startswith(">"):
            kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def read_message(raw: bytes, envelope_sender: str | None = None) -> MailReport:
    """Parse a message (pure: no database); the envelope sender stands in for a bad From.

    UnreadableMessage for a message with NUL bytes or MIME nested too deep.
    """
    if b"\0" in raw:
        raise UnreadableMessage("the message contains NUL bytes")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        _check_depth(message)
        sender = _from_address(message) or _address(envelope_sender or "")
        message_id = str(message.get("Message-ID", "")).strip() or None
        subject = " ".join(str(message.get("Subject", "")).split())
        body = own_words(nfc(_body_text(message)))
        attachments = _attachments(message)
    except RecursionError as exc:
        raise UnreadableMessage("the message's MIME structure is nested too deep") from exc
    mail = MailReport(sender, message_id, nfc(subject), body, attachments)
    if any("\0" in (text or "") for text in (sender, message_id, mail.subject, mail.body)):
        raise UnreadableMessage("the message's text contains NUL characters")
    return mail


def _check_depth(message: MIMEPart) -> None:
    """Refuse multipart nesting deeper than MAX_MIME_DEPTH (walked without recursion)."""
    pending: list[tuple[MIMEPart, int]] = [(message, 0)]
    while pending:
        part, depth = pending.pop()
        if depth > MAX_MIME_DEPTH:
            raise UnreadableMessage(f"MIME parts are nested deeper than {MAX_MIME_DEPTH}")
        if part.is_multipart():
            pending += [(child, depth + 1) for child in part.iter_parts()]


def _from_address(message: EmailMessage) -> str | None:
    header = message.get("From")
    try:
        addresses = getattr(header, "addresses", ())
        return next((a for a in (_address(x.addr_spec) for x in addresses) if a), None)
    except (AttributeError, IndexError, ValueError):
        return _address(str(header or ""))


def _address(text: str) -> str | None:
    _, address = parseaddr(text)
    return address if _EMAIL.match(address) and len(address) <= 254 else None


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if part.get_content_type() == "text/html" else content


def _attachments(message: EmailMessage) -> tuple[bytes, ...]:
    """The decoded content of every attached or inline part but the text of the message."""
    found = []
    for part in message.walk():
        text = part.get_content_maintype() == "text" and not part.is_attachment()
        if part.is_multipart() or text:
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            found.append(payload)
    return tuple(found)


def _words(text: str) -> list[str]:
    return [w.strip(_WORD_EDGES) for w in text.split() if w.strip(_WORD_EDGES)]


def _runs(words: list[str], starts: range) -> list[str]:
    """Runs of up to ACCOUNT_WORDS_MAX words from each start, longest first, each also
    upper-cased (accounts usually are, customers often type them in lower case)."""
    runs = []
    for start in starts:
        for n in range(min(ACCOUNT_WORDS_MAX, len(words) - start), 0, -1):
            run = " ".join(words[start : start + n])
            runs += [run, run.upper()] if run.upper() != run else [run]
    return runs


def find_account(session: Session, mail: MailReport) -> str | None:
    """The account the message names: a known one after a label such as "account:", else a
    known one anywhere, else the word after the label as given (for an agent to read)."""
    text = mail.text
    labelled: list[str] = []
    given: str | None = None
    for found in _ACCOUNT_LABEL.finditer(fold(text)):
        words = _words(text[found.start("value") : found.end("value")])
        labelled += _runs(words, range(1))
        if given is None and words and looks_like_account(words[0]):
            given = words[0]
    words = _words(text)[:SCANNED_WORDS_MAX]
    anywhere = [run for run in _runs(words, range(len(words))) if any(c.isdigit() for c in run)]
    known = lookup.known_accounts(session, [*labelled, *anywhere])
    return next((c for c in (*labelled, *anywhere) if c in known), given)


def split_address(body: str) -> tuple[str | None, str]:
    """The "address:" / "địa chỉ:" line's value, and the body without that line."""
    found = _ADDRESS_LINE.search(fold(body))
    if found is None:
        return None, body
    address = clip(body[found.start("value") : found.end("value")], ADDRESS_MAX)
    rest = body[found.end() :]
    return address, (body[: found.start()] + rest.removeprefix("\n")).strip()


def report_of(session: Session, mail: MailReport, guess: Guess, settings: Settings) -> ReportIn:
    """The report a message makes, the hazard its words tell of (`guess`) if likely;
    ValidationError when it has no clue at all."""
    address, body = split_address(mail.body)
    description = clip(f"{mail.subject}\n\n{body}".strip(), DESCRIPTION_MAX) or None
    likely = guess.confidence >= settings.hazard_likely_confidence
    return ReportIn(
        account=find_account(session, mail),
        email=mail.sender,
        address=address,
        description=description,
        hazard=guess.hazard if likely else None,
        channel=Channel.EMAIL,
    )


@dataclass(frozen=True)
class MailReply:
    """An answer to the customer's own address: for a hazard, the safety advice at once."""

    to: str
    subject: str
    body: str
    key: str
    """The delivery key: one reply per report, however often the message comes."""


@dataclass(frozen=True)
class Filed:
    receipt: ReceiptOut
    inserted: bool
    """False when the message was filed before (a redelivery): its reply went then."""
    reply: MailReply | None


def file_message(
    session: Session, raw: bytes, settings: Settings, envelope_sender: str | None = None
) -> Filed:
    """Store one message as a report (the caller commits), with the reply it calls for."""
    mail = read_message(raw, envelope_sender)
    guess = classify(mail.text)
    report = report_of(session, mail, guess, settings)
    digest = hashlib.sha256(raw).hexdigest()
    key = idempotency_key("email", mail.message_id or digest)
    try:
        receipt, inserted = _submit(session, report, key, settings)
    except IdempotencyConflict:
        # A Message-ID reused for other text: file it too, under a key of its content.
        key = idempotency_key("email", mail.message_id or "", digest)
        receipt, inserted = _submit(session, report, key, settings)
    if inserted:
        _keep_photos(session, receipt.ticket, mail.attachments, settings)
    reply = _safety_reply(session, mail, report, guess, receipt) if inserted else None
    return Filed(receipt, inserted, reply)


def _keep_photos(
    session: Session, ticket: str, attachments: tuple[bytes, ...], settings: Settings
) -> None:
    """Keep the attachments that are images as the report's photos; any other, or one
    refused, is passed over alone (in a savepoint), so the report is filed whatever came
    with it. Images past the report's most photos are not even looked at."""
    images = 0
    for data in attachments:
        if images == settings.photo_max_per_report:
            log.info("report %s: images past its %d are passed over", ticket, images)
            return
        try:
            with session.begin_nested():
                add_report_photo(session, ticket, data, source=PhotoSource.EMAIL, settings=settings)
        except NotAnImage as other:
            log.info("an attachment of report %s is not an image: %s", ticket, other)
            continue
        except DomainError as refusal:
            log.info("an attachment of report %s is not kept: %s", ticket, refusal)
        images += 1


def _submit(
    session: Session, report: ReportIn, key: str, settings: Settings
) -> tuple[ReceiptOut, bool]:
    """The report's receipt, and whether it was stored now rather than before."""
    inserted = not lookup.already_received(session, key)
    return submit_report(session, Submission(report, idempotency_key=key), settings), inserted


def _safety_reply(
    session: Session, mail: MailReport, report: ReportIn, guess: Guess, receipt: ReceiptOut
) -> MailReply | None:
    """The safety advice for a hazard, in the customer's language (else the words', else
    both); nothing for an outage, whose customer hears from the incident.

    The sender's address is not verified, so the reply says nothing of theirs back (not
    even their subject): only our own catalogue's words and the ticket."""
    if report.hazard is None or mail.sender is None:
        return None
    chosen = lookup.language_of(session, account=report.account, email=mail.sender)
    language = chosen or guess.language
    subject = render("report.hazard_subject", language, ticket=receipt.ticket)
    body = hazard_reply(receipt.ticket, language)
    return MailReply(mail.sender, subject, body, key=f"email-reply:{receipt.ticket}")


TICKET_SHOWN_MAX = 20
"""A ticket the sender wrote is shown this long at most (it may be anything)."""


def status_question(mail: MailReport) -> SmsCommand | None:
    """The status question the subject, else the body's first line, asks as an SMS
    would (`TRANGTHAI <ticket>`, `STATUS <ticket>`, the keyword alone); None for any
    other message. A keyword followed by other words ("Status: no power since 8am") is
    a report, not a question."""
    first_line = next((line for line in mail.body.splitlines() if line.strip()), "")
    for text in (mail.subject, first_line):
        command = parse(text)
        if command.intent is Intent.STATUS and (not command.words or is_ticket(command.words[0])):
            return command
    return None


def status_answer(
    session: Session,
    mail: MailReport,
    question: SmsCommand,
    progress: ProgressSource,
    settings: Settings,
) -> MailReply | None:
    """The report's progress for the address that asks, if it is the report's own; else
    how its customer may ask. In the customer's language, else the question's. None
    without an address to answer."""
    if mail.sender is None:
        return None
    language = lookup.language_of(session, email=mail.sender) or question.language
    key = f"email-status:{mail.message_id or hashlib.sha256(mail.text.encode()).hexdigest()}"
    if question.words:
        ticket: str | None = normalize_ticket(question.words[0])
    else:
        ticket = lookup.latest_ticket_of_email(session, mail.sender)
    if ticket is None:
        text = render("email.no_report", language)
        return MailReply(mail.sender, text, text, key)
    owner = mail.sender.lower() in status_emails(session, ticket)
    body = status_reply(
        session,
        ticket,
        language,
        progress,
        settings.local_timezone,
        personal=owner,
        not_yours="progress.other_email",
    )
    shown = ticket if len(ticket) <= TICKET_SHOWN_MAX else ticket[: TICKET_SHOWN_MAX - 3] + "..."
    return MailReply(mail.sender, render("email.status_subject", language, ticket=shown), body, key)


AfterFiling = Callable[[Session, ReceiptOut], object]
"""What the service does with a report filed by mail, in its transaction: given by the
caller that starts the receiver, which knows the domains above intake (incidents)."""


SendReply = Callable[[MailReply], object]
"""Sends a reply once its report is committed: the caller's mail gateway."""


def _nothing(session: Session, receipt: ReceiptOut) -> None:
    return None


class ReportMailHandler:
    """aiosmtpd handler: every accepted message becomes a report, answered with its ticket."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        after_filing: AfterFiling = _nothing,
        send_reply: SendReply | None = None,
        *,
        progress: ProgressSource,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.after_filing = after_filing
        self.send_reply = send_reply
        self.progress = progress

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            return await asyncio.to_thread(self._take, raw, envelope.mail_from)
        except ValidationError:
            return "550 5.6.0 No sender address, account or street address to file this under"
        except UnreadableMessage as exc:
            return f"554 5.6.0 Cannot read the message: {exc}"
        except Exception:
            log.exception("could not file an e-mail report")
            return "451 4.3.0 Could not store the message now; please try again later"

    def _take(self, raw: bytes, envelope_sender: str | None) -> str:
        """File the message, or answer its status question; the SMTP answer."""
        mail = read_message(raw, envelope_sender)
        question = status_question(mail)
        if question is not None:
            return self._answer(mail, question)
        with session_scope(self.sessions) as session:
            filed = file_message(session, raw, self.settings, envelope_sender)
            self.after_filing(session, filed.receipt)
        if filed.reply is not None:
            self._send(filed.reply, filed.receipt.ticket)
        return f"250 2.0.0 Report filed, ticket {filed.receipt.ticket}"

    def _answer(self, mail: MailReport, question: SmsCommand) -> str:
        with session_scope(self.sessions) as session:
            reply = status_answer(session, mail, question, self.progress, self.settings)
        if reply is None:
            return "550 5.6.0 No sender address to answer the status question"
        self._send(reply, "status")
        return "250 2.0.0 Status question answered"

    def _send(self, reply: MailReply, about: str) -> None:
        if self.send_reply is None:
            return
        try:
            self.send_reply(reply)
        except Exception:  # what was asked is done: a lost reply must not refuse it
            log.exception("could not send the reply about %s", about)


def start_receiver(
    host: str,
    port: int,
    session_factory: sessionmaker[Session],
    settings: Settings,
    after_filing: AfterFiling = _nothing,
    send_reply: SendReply | None = None,
    *,
    progress: ProgressSource,
) -> Controller:
    """Listen for mail on host:port in a thread of its own; `.stop()` the result to end.

    `after_filing` runs in each report's transaction; `send_reply` (None: no replies)
    sends the replies that call for one after it commits; `progress` reads a report's
    progress for status questions (intake knows nothing of incidents)."""
    controller = Controller(
        ReportMailHandler(session_factory, settings, after_filing, send_reply, progress=progress),
        hostname=host,
        port=port,
        data_size_limit=settings.smtp_max_message_bytes,
        server_hostname="outage-intake",
    )
    controller.start()
    return controller
