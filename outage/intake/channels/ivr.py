"""The IVR (or a phone agent's softphone) menu, one webhook call per keyed choice.

    (nothing) or 0   the menu
    1                report an outage at the premise registered to the caller's number
    1*<digits>       report an outage for the account keyed (the account, or the one
                     whose digits these are: 'LV4.301 Load 7' is keyed 1*43017)
    2                the status of the newest report from the caller's number
    9                transfer to an agent
    anything else    "not a valid choice", then the menu

A trailing '#' and spaces are ignored. The answer says what to speak, in which language
(the one the caller chose in the IVR, else the customer's, else Vietnamese), the ticket
when a report was made, and what the IVR does next. The call id and the digits form the
idempotency key: a retried webhook gets the first answer, not a second report.
"""

import math

from sqlalchemy.orm import Session

from outage.intake.channels import lookup
from outage.intake.channels.answers import report_reply, status_reply
from outage.intake.channels.common import idempotency_key, phone_or_none
from outage.intake.channels.schemas import IvrIn, IvrNext, IvrOut
from outage.intake.channels.texts import VI, Language, render, spoken_ticket
from outage.intake.enums import Channel, ReportStatus
from outage.intake.limits import IntakeLimits, RateLimited
from outage.intake.schemas import ReportIn
from outage.intake.service import Submission, submit_report
from outage.settings import Settings

ACCOUNT_DIGITS_MIN = 4


def handle(session: Session, call: IvrIn, *, settings: Settings, limits: IntakeLimits) -> IvrOut:
    """Answer one keyed choice of one call."""
    digits = call.digits.replace(" ", "").rstrip("#")
    phone = phone_or_none(call.caller)
    language = call.language or (phone and lookup.language_of(session, phone=phone)) or VI
    if digits in ("", "0"):
        return IvrOut(say=render("ivr.menu", language), language=language, next=IvrNext.MENU)
    if digits == "1":
        return _report_by_phone(session, call, digits, phone, language, settings, limits)
    if digits.startswith("1*") and len(digits) - 2 >= ACCOUNT_DIGITS_MIN and digits[2:].isdigit():
        return _report_by_account(session, call, digits, phone, language, settings, limits)
    if digits == "2":
        return _status(session, phone, language)
    if digits == "9":
        return IvrOut(say=render("ivr.agent", language), language=language, next=IvrNext.AGENT)
    say = f"{render('ivr.invalid', language)} {render('ivr.menu', language)}"
    return IvrOut(say=say, language=language, next=IvrNext.MENU)


def _report_by_phone(
    session: Session,
    call: IvrIn,
    digits: str,
    phone: str | None,
    language: Language,
    settings: Settings,
    limits: IntakeLimits,
) -> IvrOut:
    if phone is None:
        return IvrOut(say=render("ivr.no_caller_id", language), language=language, next=IvrNext.MENU)
    registered = len(lookup.customers_by_phone(session, phone))
    outcome = _submit(session, call, digits, ReportIn(phone=phone, channel=Channel.IVR),
                      language, settings, limits)
    if isinstance(outcome, IvrOut):
        return outcome
    say = report_reply(outcome.receipt, language, spoken_ticket)
    if outcome.receipt.status is ReportStatus.NEEDS_AGENT:
        why = "ivr.phone_several" if registered > 1 else "ivr.phone_unknown"
        say = f"{render(why, language)} {say}"
    return IvrOut(say=say, language=language, ticket=outcome.receipt.ticket, next=IvrNext.HANGUP)
