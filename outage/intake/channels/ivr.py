"""The IVR (or a phone agent's softphone) menu, one webhook call per keyed choice.

    (nothing) or 0   the menu
    1                report an outage at the premise registered to the caller's number
    1*<digits>       report an outage for the account keyed (the account, or the one
                     whose digits these are: 'LV4.301 Load 7' is keyed 1*43017)
    3, 3*<digits>    report wires down, like 1
    4, 4*<digits>    report a fire or sparks, like 1
    2                the status of the newest report from the caller's number
    9                transfer to an agent
    anything else    "not a valid choice", then the menu

A trailing '#' and spaces are ignored. The answer says what to speak, in which language
(the one the caller chose in the IVR, else the customer's, else Vietnamese), the ticket
when a report was made, and what the IVR does next. The call id and the digits form the
idempotency key: a retried webhook gets the first answer, not a second report. A hazard
(3 or 4) is answered with the safety advice, and its hazard incident is opened at once,
even for a caller past the rate limit, which holds for outage reports.
"""

import math

from sqlalchemy.orm import Session

from outage.errors import RateLimited
from outage.i18n import DEFAULT_LANGUAGE, Language
from outage.intake.channels import lookup
from outage.intake.channels.answers import report_reply, status_reply
from outage.intake.channels.common import idempotency_key, phone_or_none
from outage.intake.channels.schemas import IvrIn, IvrNext, IvrOut
from outage.intake.channels.texts import render, spoken_ticket
from outage.intake.enums import Channel, Hazard, ReportStatus
from outage.intake.limits import IntakeLimits
from outage.intake.progress import ProgressSource
from outage.intake.schemas import ReceiptOut, ReportIn
from outage.intake.service import Submission, submit_report
from outage.settings import Settings

ACCOUNT_DIGITS_MIN = 4
"""Fewer keyed digits than this are no account number."""

REPORT_CHOICES: dict[str, Hazard | None] = {
    "1": None,
    "3": Hazard.WIRES_DOWN,
    "4": Hazard.FIRE,
}
"""The choices that file a report, and the hazard each tells of (None: an outage)."""


def handle(
    session: Session,
    call: IvrIn,
    *,
    settings: Settings,
    limits: IntakeLimits,
    progress: ProgressSource,
) -> IvrOut:
    """Answer one keyed choice of one call; status questions go to `progress`."""
    digits = _keyed(call)
    phone = phone_or_none(call.caller)
    chosen = call.language or (lookup.language_of(session, phone=phone) if phone else None)
    language = chosen or DEFAULT_LANGUAGE
    choice, star, account_digits = digits.partition("*")
    try:
        if digits in ("", "0"):
            return _say(language, IvrNext.MENU, "ivr.menu")
        if choice in REPORT_CHOICES and not star:
            hazard = REPORT_CHOICES[choice]
            return _report_by_phone(session, call, phone, language, hazard, settings, limits)
        if choice in REPORT_CHOICES and account_digits.isdigit():
            hazard = REPORT_CHOICES[choice]
            return _report_by_account(
                session, call, account_digits, phone, chosen, hazard, settings, limits
            )
        if digits == "2":
            return _status(session, phone, language, progress, settings)
        if digits == "9":
            return _say(language, IvrNext.AGENT, "ivr.agent")
    except RateLimited as exc:
        minutes = str(math.ceil(exc.retry_after_s / 60))
        return _say(language, IvrNext.HANGUP, "report.rate_limited", minutes=minutes)
    return _say(language, IvrNext.MENU, "ivr.invalid", "ivr.menu")


def _keyed(call: IvrIn) -> str:
    return call.digits.replace(" ", "").rstrip("#")


def _say(language: Language, then: IvrNext, *keys: str, **values: str) -> IvrOut:
    say = " ".join(render(key, language, **values) for key in keys)
    return IvrOut(say=say, language=language, next=then)


def _submit(
    session: Session,
    call: IvrIn,
    report: ReportIn,
    settings: Settings,
    limits: IntakeLimits,
) -> ReceiptOut:
    """Submit once per call and choice; a retried webhook is neither counted nor stored.

    The report's phone is the caller ID, which the IVR vouches for. A hazard is never
    rate-limited: the caller must hear the safety advice."""
    key = idempotency_key("ivr", call.call_id, _keyed(call))
    if report.hazard is None and not lookup.already_received(session, key):
        limits.check(ip=None, phone=report.phone, phone_verified=True)
    return submit_report(session, Submission(report, idempotency_key=key), settings)


def _report_by_phone(
    session: Session,
    call: IvrIn,
    phone: str | None,
    language: Language,
    hazard: Hazard | None,
    settings: Settings,
    limits: IntakeLimits,
) -> IvrOut:
    if phone is None:
        return _say(language, IvrNext.MENU, "ivr.no_caller_id")
    registered = len(lookup.customers_by_phone(session, phone))
    report = ReportIn(phone=phone, hazard=hazard, channel=Channel.IVR)
    receipt = _submit(session, call, report, settings, limits)
    say = report_reply(receipt, language, spoken_ticket, hazard=hazard is not None)
    if receipt.status is ReportStatus.NEEDS_AGENT:
        why = "ivr.phone_several" if registered > 1 else "ivr.phone_unknown"
        say = f"{render(why, language)} {say}"
    return IvrOut(say=say, language=language, ticket=receipt.ticket, next=IvrNext.HANGUP)


def _report_by_account(
    session: Session,
    call: IvrIn,
    digits: str,
    phone: str | None,
    chosen: Language | None,
    hazard: Hazard | None,
    settings: Settings,
    limits: IntakeLimits,
) -> IvrOut:
    account = (
        lookup.account_by_digits(session, digits) if len(digits) >= ACCOUNT_DIGITS_MIN else None
    )
    if account is None:
        return _say(
            chosen or DEFAULT_LANGUAGE,
            IvrNext.MENU,
            "ivr.unknown_account",
            account=" ".join(digits),
        )
    language = chosen or lookup.language_of(session, account=account) or DEFAULT_LANGUAGE
    report = ReportIn(account=account, phone=phone, hazard=hazard, channel=Channel.IVR)
    receipt = _submit(session, call, report, settings, limits)
    say = report_reply(receipt, language, spoken_ticket, hazard=hazard is not None)
    return IvrOut(say=say, language=language, ticket=receipt.ticket, next=IvrNext.HANGUP)


def _status(
    session: Session,
    phone: str | None,
    language: Language,
    progress: ProgressSource,
    settings: Settings,
) -> IvrOut:
    ticket = lookup.latest_ticket(session, phone=phone) if phone else None
    if ticket is None:
        return _say(language, IvrNext.HANGUP, "ivr.no_report")
    say = status_reply(session, ticket, language, progress, settings.local_timezone, spoken_ticket)
    return IvrOut(say=say, language=language, ticket=ticket, next=IvrNext.HANGUP)
