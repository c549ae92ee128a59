"""SMS keywords: report an outage or a hazard, ask for a report's status, ask for help.

The syntax, case- and accent-blind, in either language (the keyword's language is the
reply's, unless the customer chose one):

    MATDIEN [account] [details]    or MAT DIEN ..., OUT ..., OUTAGE ...
    NGUYHIEM [account] [details]   or NGUY HIEM ..., HAZARD ..., DANGER ...
    TRANGTHAI [ticket]             or TRANG THAI ..., STATUS ...
    HUONGDAN                       or HUONG DAN, HELP

Without an account, a report is placed by the sender's number. Without a ticket, the
status is that of the newest report from the sender's number.

A report's details, and a message with no keyword, are read for a hazard
(`outage.intake.channels.hazards`): one likely enough (`hazard_likely_confidence`) is filed as a
hazard, and the reply is the safety advice. A hazard keyword files a hazard whatever the
words say: the kind they name, else wires down, whose advice (keep away) fits any danger.
A hazard is filed, and its safety advice sent, even past the sender's rate limit, which
holds for everything else.
Anything else gets the syntax in both languages.

The grammar is the channels' that talk back in text: `answer_text` takes a message from
any of them (SMS, Zalo) and answers in plain text; `handle` is the SMS webhook's, which
folds the answer to one GSM-7 SMS.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from outage.errors import RateLimited
from outage.i18n import Language
from outage.intake.channels import lookup
from outage.intake.channels.answers import report_reply, status_reply
from outage.intake.channels.common import (
    DESCRIPTION_MAX,
    clip,
    fold,
    idempotency_key,
    looks_like_account,
    phone_or_none,
)
from outage.intake.channels.hazards import classify
from outage.intake.channels.schemas import SmsIn, SmsOut
from outage.intake.channels.texts import render, sms_text
from outage.intake.enums import Channel, Hazard
from outage.intake.limits import IntakeLimits
from outage.intake.progress import ProgressSource
from outage.intake.schemas import ContactReportIn, ReportIn
from outage.intake.service import Submission, status_phones, submit_report, zalo_user_of
from outage.settings import Settings


class Intent(StrEnum):
    REPORT = "report"
    HAZARD = "hazard"
    STATUS = "status"
    HELP = "help"
    UNKNOWN = "unknown"


KEYWORDS: dict[tuple[str, ...], tuple[Intent, Language]] = {
    ("MATDIEN",): (Intent.REPORT, Language.VI),
    ("MAT", "DIEN"): (Intent.REPORT, Language.VI),
    ("OUT",): (Intent.REPORT, Language.EN),
    ("OUTAGE",): (Intent.REPORT, Language.EN),
    ("NGUYHIEM",): (Intent.HAZARD, Language.VI),
    ("NGUY", "HIEM"): (Intent.HAZARD, Language.VI),
    ("HAZARD",): (Intent.HAZARD, Language.EN),
    ("DANGER",): (Intent.HAZARD, Language.EN),
    ("TRANGTHAI",): (Intent.STATUS, Language.VI),
    ("TRANG", "THAI"): (Intent.STATUS, Language.VI),
    ("STATUS",): (Intent.STATUS, Language.EN),
    ("HUONGDAN",): (Intent.HELP, Language.VI),
    ("HUONG", "DAN"): (Intent.HELP, Language.VI),
    ("HELP",): (Intent.HELP, Language.EN),
}
_LONGEST_FIRST = sorted(KEYWORDS, key=len, reverse=True)

ACCOUNT_WORDS_MAX = 4
"""Accounts may hold spaces ('LV4.301 Load 1'): up to this many words are tried."""

UNNAMED_HAZARD = Hazard.WIRES_DOWN
"""What a hazard keyword files when its words name no hazard we know."""

_TICKET = re.compile(r"^(\d{6})-?([A-Z0-9]{5})$")


@dataclass(frozen=True)
class SmsCommand:
    intent: Intent
    language: Language | None
    """The keyword's language; None when no keyword was found."""
    words: tuple[str, ...] = ()
    """What followed the keyword, as the customer wrote it."""


def parse(text: str) -> SmsCommand:
    """Find the keyword at the start of the message (pure: no database)."""
    words = text.split()
    keys = [re.sub(r"[^A-Z0-9]", "", fold(word).upper()) for word in words]
    for keyword in _LONGEST_FIRST:
        if tuple(keys[: len(keyword)]) == keyword:
            intent, language = KEYWORDS[keyword]
            return SmsCommand(intent, language, tuple(words[len(keyword) :]))
    return SmsCommand(Intent.UNKNOWN, None, tuple(words))


def is_ticket(text: str) -> bool:
    """Whether the word is shaped like a ticket ('261125-ABCDE', '261125abcde')."""
    return _TICKET.match(text.strip(" :.,;()").upper()) is not None


def normalize_ticket(text: str) -> str:
    """'261125abcde' and '261125-abcde' both become '261125-ABCDE'."""
    found = _TICKET.match(text.strip().upper())
    return f"{found[1]}-{found[2]}" if found else text.strip().upper()


def split_account(session: Session, words: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The account the report names, if any, and the rest of the message as details.

    The longest run of leading words that is a known account wins; else a first word
    shaped like an account number is kept as the account given, for an agent to read.
    """
    phrases = [" ".join(words[:n]) for n in range(1, min(ACCOUNT_WORDS_MAX, len(words)) + 1)]
    known = lookup.known_accounts(session, [*phrases, *(p.upper() for p in phrases)])
    for n in range(len(phrases), 0, -1):
        for phrase in (phrases[n - 1], phrases[n - 1].upper()):
            if phrase in known:
                return phrase, _details(words[n:])
    if words and looks_like_account(words[0]):
        return words[0], _details(words)
    return None, _details(words)


def _details(words: tuple[str, ...]) -> str | None:
    return clip(" ".join(words), DESCRIPTION_MAX) or None


@dataclass(frozen=True)
class Wording:
    """The keys of the replies a channel words its own way (the `channels` catalogue)."""

    help: str
    need_account: str
    no_report: str
    rate_limited: str
    help_alerts: str
    """The answer to a help keyword: the help and the alerts' keywords (a text not
    understood gets the help alone, in both languages, which has to fit one SMS)."""


SMS_WORDING = Wording(
    "sms.help", "sms.need_account", "sms.no_report", "report.rate_limited", "sms.help_alerts"
)


@dataclass(frozen=True)
class TextMessage:
    """One customer's text, as any channel that talks back in text hands it over."""

    text: str
    channel: Channel
    limit_key: str
    """Whom the per-sender rate limit counts: the number as sent, a Zalo user."""
    idempotency_key: str | None
    phone: str | None = None
    """The sender's number in E.164, when the channel shows a real one."""
    zalo_user_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    """Where the customer is, when they shared it: a report placed there."""
    occurred_at: datetime | None = None
    """When the customer sent it, when the channel says (else: when it reached us)."""

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class TextAnswer:
    """The reply in plain text (accents and all), and the report the message filed."""

    reply: str
    language: Language | None
    """The reply's language; None: it is in every language."""
    ticket: str | None = None
    report_id: int | None = None
    hazard: bool = False


def handle(
    session: Session,
    message: SmsIn,
    *,
    settings: Settings,
    limits: IntakeLimits,
    progress: ProgressSource,
) -> SmsOut:
    """Answer one inbound SMS with one GSM-7 SMS."""
    phone = phone_or_none(message.sender)
    text = TextMessage(
        text=message.text,
        channel=Channel.SMS,
        limit_key=phone or message.sender,
        idempotency_key=idempotency_key("sms", message.message_id) if message.message_id else None,
        phone=phone,
    )
    answer = answer_text(
        session, text, settings=settings, limits=limits, progress=progress, wording=SMS_WORDING
    )
    return SmsOut(reply=sms_text(answer.reply), ticket=answer.ticket)


def answer_text(
    session: Session,
    message: TextMessage,
    *,
    settings: Settings,
    limits: IntakeLimits,
    progress: ProgressSource,
    wording: Wording,
) -> TextAnswer:
    """Answer one customer's text; reports go through the intake service, status questions
    to `progress`. A shared location with no keyword (or a report keyword) is a report
    placed there, its text the details."""
    command = parse(message.text)
    if command.intent is Intent.UNKNOWN:
        guess = classify(message.text)
        if message.located or guess.confidence >= settings.hazard_likely_confidence:
            command = SmsCommand(Intent.REPORT, guess.language, command.words)
    if command.intent in (Intent.REPORT, Intent.HAZARD):
        return _report(session, message, command, settings, limits, wording)
    if command.intent is Intent.STATUS:
        return _status(session, message, command, progress, settings, wording)
    if command.intent is Intent.HELP:
        language = _language(session, command, phone=message.phone)
        return _reply(wording.help_alerts, language, help=render(wording.help, language))
    return _reply(wording.help, None)


def _language(
    session: Session, command: SmsCommand, *, phone: str | None, account: str | None = None
) -> Language | None:
    """The customer's chosen language when we know them, else the keyword's."""
    chosen = lookup.language_of(session, account=account, phone=phone)
    return chosen or command.language


def _reply(key: str, language: Language | None, **values: str) -> TextAnswer:
    return TextAnswer(render(key, language, **values), language)


def _report(
    session: Session,
    message: TextMessage,
    command: SmsCommand,
    settings: Settings,
    limits: IntakeLimits,
    wording: Wording,
) -> TextAnswer:
    if message.located:
        account, details = None, _details(command.words)
    else:
        account, details = split_account(session, command.words)
    language = _language(session, command, phone=message.phone, account=account)
    hazard = _hazard(command, details, settings)
    clued = account is not None or message.phone is not None or message.located
    if not clued and (hazard is None or message.zalo_user_id is None):
        return _reply(wording.need_account, language)
    key = message.idempotency_key
    if hazard is None and (key is None or not lookup.already_received(session, key)):
        try:
            limits.check(ip=None, phone=message.limit_key, phone_verified=True)
        except RateLimited as exc:
            minutes = str(math.ceil(exc.retry_after_s / 60))
            return _reply(wording.rate_limited, language, minutes=minutes)
    report = (ReportIn if clued else ContactReportIn)(
        account=account,
        phone=message.phone,
        lat=message.lat,
        lon=message.lon,
        description=details,
        hazard=hazard,
        channel=message.channel,
    )
    submission = Submission(
        report,
        idempotency_key=key,
        zalo_user_id=message.zalo_user_id,
        occurred_at=message.occurred_at,
    )
    receipt = submit_report(session, submission, settings)
    reply = report_reply(receipt, language, hazard=hazard is not None)
    return TextAnswer(reply, language, receipt.ticket, receipt.id, hazard is not None)


def _hazard(command: SmsCommand, details: str | None, settings: Settings) -> Hazard | None:
    """The hazard a report tells of: named by its words when likely, or by its keyword."""
    guess = classify(details or "")
    if command.intent is Intent.HAZARD:
        return guess.hazard or UNNAMED_HAZARD
    return guess.hazard if guess.confidence >= settings.hazard_likely_confidence else None


def _status(
    session: Session,
    message: TextMessage,
    command: SmsCommand,
    progress: ProgressSource,
    settings: Settings,
    wording: Wording,
) -> TextAnswer:
    """A ticket's progress goes only to its reporter: a phone given with its report or
    registered to its customer (as the status page asks for their last digits), or the
    Zalo user who sent it; anyone may send a ticket."""
    phone, zalo_user_id = message.phone, message.zalo_user_id
    language = _language(session, command, phone=phone)
    if command.words:
        ticket = normalize_ticket(command.words[0])
    elif latest := lookup.latest_ticket(session, phone=phone, zalo_user_id=zalo_user_id):
        ticket = latest
    else:
        return _reply(wording.no_report, language)
    owner = (phone is not None and phone in status_phones(session, ticket)) or (
        zalo_user_id is not None and zalo_user_id == zalo_user_of(session, ticket)
    )
    reply = status_reply(
        session, ticket, language, progress, settings.local_timezone, personal=owner
    )
    return TextAnswer(reply, language)
