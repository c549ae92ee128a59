"""Keywords of alerts, by SMS or Zalo: subscribe the sender to an account, or stop it.

Case- and accent-blind, in either language (the keyword's language is the reply's and
the subscription's):

    DANGKY <account>     or DANG KY, ĐĂNG KÝ ..., REG ...
    HUY [account]        or HỦY ..., STOP ..., HỦY ĐĂNG KÝ

Words after a stop keyword that name no account ("Huy oi, nha toi mat dien": Huy is a
common name) are not a stop: the message goes on to intake's keywords.

An SMS comes from the phone it names, and a Zalo message from the Zalo user it names,
so a subscription made by either is verified at once. A STOP stops every subscription
of the sender (only those of the account, when one is given) and the customer's own
contact when the phone is theirs: nothing more goes to it, safety messages included (a
STOP means stop), until it subscribes again. The SMS and Zalo webhooks ask this module
before intake's keywords, so intake knows nothing of subscriptions.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.grid.models import Customer
from outage.i18n import Language, catalogue
from outage.intake.channels.common import fold, nfc, phone_or_none
from outage.intake.channels.schemas import SmsIn, SmsOut
from outage.intake.channels.texts import sms_text
from outage.notifications.enums import DeliveryChannel
from outage.notifications.preferences import own_customers
from outage.notifications.subscriptions import Actor, follow_account, set_own_stop, stop_contact


class Command(StrEnum):
    SUBSCRIBE = "subscribe"
    STOP = "stop"


KEYWORDS: dict[tuple[str, ...], tuple[Command, Language]] = {
    ("DANGKY",): (Command.SUBSCRIBE, Language.VI),
    ("DANG", "KY"): (Command.SUBSCRIBE, Language.VI),
    ("REG",): (Command.SUBSCRIBE, Language.EN),
    ("HUY",): (Command.STOP, Language.VI),
    ("STOP",): (Command.STOP, Language.EN),
}
_LONGEST_FIRST = sorted(KEYWORDS, key=len, reverse=True)

ACCOUNT_MAX = 64


def _parse(text: str) -> tuple[Command, Language, str] | None:
    """The keyword at the start of the message and the account after it (pure)."""
    words = nfc(text).split()
    keys = [re.sub(r"[^A-Z0-9]", "", fold(word).upper()) for word in words]
    for keyword in _LONGEST_FIRST:
        if tuple(keys[: len(keyword)]) == keyword:
            command, language = KEYWORDS[keyword]
            return command, language, " ".join(words[len(keyword) :])
    return None


def _customer(session: Session, given: str) -> tuple[str, int] | None:
    """The account the words name (all of them, else the first word) and its customer."""
    first = given.split()[0]
    names = [given, given.upper(), first, first.upper()]
    by_account = dict(
        session.execute(select(Customer.account, Customer.id).where(Customer.account.in_(names)))
        .tuples()
        .all()
    )
    return next(((name, by_account[name]) for name in names if name in by_account), None)


@dataclass(frozen=True)
class KeywordReply:
    text: str
    language: Language


def _reply(key: str, language: Language, **values: str) -> KeywordReply:
    return KeywordReply(catalogue("notifications", language)[key].format(**values), language)


def answer_sms(session: Session, message: SmsIn) -> SmsOut | None:
    """The SMS reply to a subscription keyword; None for any other message."""
    phone = phone_or_none(message.sender)
    answered = answer(session, DeliveryChannel.SMS, phone, message.text) if phone else None
    return SmsOut(reply=sms_text(answered.text)) if answered else None


def answer(
    session: Session, channel: DeliveryChannel, sender: str, text: str
) -> KeywordReply | None:
    """The reply to a subscription keyword from `sender` (a phone in E.164, a Zalo user
    id) on `channel`; None for any other message."""
    parsed = _parse(text)
    if parsed is None:
        return None
    command, language, given = parsed
    given = given[:ACCOUNT_MAX].strip()
    if command is Command.STOP and _parse(given) == (Command.SUBSCRIBE, language, ""):
        given = ""  # "HUY DANG KY": stop everything
    found = _customer(session, given) if given else None
    if given and found is None:
        if not any(c.isdigit() for c in given.split()[0]):
            # Not an account: "Huy" the name, "Stop by ..." are words for intake; a
            # subscribe keyword with words after it is answered with its usage.
            return None if command is Command.STOP else _reply("sms.subscribe_usage", language)
        return _reply("sms.unknown_account", language, account=given)
    actor = Actor.contact(channel.value)
    customer_id = found[1] if found else None
    if command is Command.STOP:
        stop_contact(session, channel, sender, actor, customer_id=customer_id)
        return _reply("sms.stopped", language)
    if found is None:
        return _reply("sms.subscribe_usage", language)
    account, customer_id = found
    if own_customers(session, channel, sender, customer_id=customer_id):
        set_own_stop(session, customer_id, False, actor)
    else:
        follow_account(session, channel=channel, address=sender, account=account, language=language)
    return _reply("sms.subscribed", language, account=account)
