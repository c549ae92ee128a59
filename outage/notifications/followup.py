"""Answers to "still out?", which the "power is back" message asks: from the link in the
message, or an SMS "1".

"Still out" files an outage report for the customer through the intake service, so the
engine sees it like any call: a nested outage under the restored incident.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage import clock
from outage.grid.models import Customer
from outage.i18n import Language, catalogue
from outage.intake.channels.common import phone_or_none
from outage.intake.channels.schemas import SmsIn, SmsOut
from outage.intake.channels.texts import sms_text
from outage.intake.enums import Channel
from outage.intake.models import Report
from outage.intake.schemas import ReportIn
from outage.intake.service import Submission, submit_report
from outage.notifications.enums import DeliveryChannel, DeliveryStatus, Reply
from outage.notifications.models import Notification
from outage.outbox.enums import EventKind
from outage.settings import Settings

SMS_WINDOW = timedelta(hours=24)
"""An SMS "1" answers the newest follow-up sent to that phone within this time."""

ASKING = (EventKind.RESTORED, EventKind.FOLLOW_UP)
"""The messages that ask: "power is back", and the separate follow-up of earlier versions."""

REPORT_DESCRIPTION = "Still without power after the restoration (answer to the follow-up)"


@dataclass(frozen=True)
class FollowUpView:
    """What the public answer page may show: no personal data."""

    language: Language
    reply: Reply | None
    ticket: str | None


def _view(session: Session, row: Notification) -> FollowUpView:
    ticket = None
    if row.reply_report_id is not None:
        ticket = session.scalar(select(Report.ticket).where(Report.id == row.reply_report_id))
    return FollowUpView(language=row.language, reply=row.reply, ticket=ticket)


def _by_token(session: Session, token: str, *, lock: bool) -> Notification | None:
    query = select(Notification).where(
        Notification.reply_token == token, Notification.kind.in_(ASKING)
    )
    return session.scalar(query.with_for_update() if lock else query)


def find(session: Session, token: str) -> FollowUpView | None:
    row = _by_token(session, token, lock=False)
    return _view(session, row) if row is not None else None


def _answer(session: Session, row: Notification, reply: Reply, settings: Settings) -> FollowUpView:
    """The first answer counts, except that "still out" may follow "power is back"."""
    if row.reply is Reply.STILL_OUT or row.reply is reply:
        return _view(session, row)
    row.reply = reply
    row.replied_at = clock.now()
    if reply is Reply.STILL_OUT:
        account = session.scalar(select(Customer.account).where(Customer.id == row.customer_id))
        report = ReportIn(account=account, description=REPORT_DESCRIPTION, channel=Channel.WEB)
        receipt = submit_report(
            session, Submission(report, idempotency_key=f"follow-up-{row.id}"), settings
        )
        row.reply_report_id = receipt.id
    session.flush()
    return _view(session, row)


def answer(session: Session, token: str, reply: Reply, settings: Settings) -> FollowUpView | None:
    """Record the answer given through the link; None for an unknown token."""
    row = _by_token(session, token, lock=True)
    return _answer(session, row, reply, settings) if row is not None else None


def answer_sms(session: Session, message: SmsIn, settings: Settings) -> SmsOut | None:
    """The reply to an SMS "1" from a phone we asked "still out?" lately; None for any
    other message, which intake's keywords answer."""
    phone = phone_or_none(message.sender)
    if phone is None or message.text.strip() != "1":
        return None
    row = session.scalar(
        select(Notification)
        .where(
            Notification.kind.in_(ASKING),
            Notification.reply_token.is_not(None),
            Notification.channel == DeliveryChannel.SMS,
            Notification.address == phone,
            Notification.status == DeliveryStatus.SENT,
            Notification.sent_at >= clock.now() - SMS_WINDOW,
        )
        .order_by(Notification.sent_at.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None:
        return None
    view = _answer(session, row, Reply.STILL_OUT, settings)
    answer = catalogue("notifications", view.language)["follow_up.still_out"]
    return SmsOut(reply=sms_text(answer.format(ticket=view.ticket or "")))
