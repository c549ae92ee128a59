"""Zalo Official Account messages: the SMS keywords over Zalo, a shared location, an image.

A utility's Official Account (OA) posts each event of its webhook here, signed by Zalo
(`signature`): a user's text is read with the SMS grammar (`sms.answer_text`), a shared
location files a report placed there, an image is kept with the report it came with, a
new follower is welcomed. Zalo shows no phone number: a report holds the sender's Zalo
user id as its contact, and a status question is answered for the reports that user sent.

Zalo retries an event it thinks undelivered, so each is acted on once: its key (the
message id, else a hash of the event) is stored in `zalo_events` (`record`) in the
transaction that files its report (`take`). Zalo ignores what the webhook answers: the
reply is handed back for the caller to queue as a message of its own (the
notifications' replies).
"""

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage.intake.channels import lookup, sms
from outage.intake.channels.common import idempotency_key
from outage.intake.channels.schemas import ZaloEventIn, ZaloEventName
from outage.intake.channels.texts import render
from outage.intake.enums import Channel
from outage.intake.limits import IntakeLimits
from outage.intake.models import Report, ZaloEvent
from outage.intake.progress import ProgressSource
from outage.settings import Settings

SIGNATURE_HEADER = "X-ZEvent-Signature"
SIGNATURE_PREFIX = "mac="

_READ = frozenset(
    {ZaloEventName.USER_SEND_TEXT, ZaloEventName.USER_SEND_LOCATION, ZaloEventName.USER_SEND_IMAGE}
)
"""Events whose words (and location) are read as a message."""

WORDING = sms.Wording(
    "zalo.help", "zalo.need_account", "zalo.no_report", "zalo.rate_limited", "zalo.help_alerts"
)


def signature(*, app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    """The header Zalo signs an event with: `mac=` and the SHA-256 (hex) of the app id,
    the raw body, the event's timestamp and the OA's secret key, one after another."""
    signed = app_id.encode() + body + timestamp.encode() + secret.encode()
    return SIGNATURE_PREFIX + hashlib.sha256(signed).hexdigest()


def signed_by_zalo(
    header: str | None, *, app_id: str, body: bytes, timestamp: str, secret: str
) -> bool:
    """Whether the header is the event's signature (compared in constant time)."""
    if not header:
        return False
    expected = signature(app_id=app_id, body=body, timestamp=timestamp, secret=secret)
    return hmac.compare_digest(header.strip().encode(), expected.encode())


def event_key(event: ZaloEventIn) -> str:
    """The event's identity across Zalo's retries: its message id, else a hash of it."""
    if event.message is not None and event.message.msg_id:
        return idempotency_key("zalo", event.message.msg_id)
    digest = hashlib.sha256(event.model_dump_json().encode()).hexdigest()
    return idempotency_key("zalo", "event", digest)


@dataclass(frozen=True)
class ZaloAnswer:
    """What one event did: the reply to queue for its user (None: none), and the ticket
    of the report an image it carried goes with (None: no image, or no report)."""

    key: str
    user_id: str | None
    reply: sms.TextAnswer | None
    image_ticket: str | None = None


def record(session: Session, event: ZaloEventIn) -> str | None:
    """Keep the event's key, in the caller's transaction: the key the first time, None for
    a retry of an event already acted on."""
    key = event_key(event)
    return session.scalar(
        insert(ZaloEvent)
        .values(event_key=key, event_name=event.event_name, occurred_at=event.occurred_at)
        .on_conflict_do_nothing(index_elements=[ZaloEvent.event_key])
        .returning(ZaloEvent.event_key)
    )


def words(event: ZaloEventIn) -> str | None:
    """What a user's text message says (None for any other event)."""
    if event.event_name != ZaloEventName.USER_SEND_TEXT or event.message is None:
        return None
    return event.message.text


def take(
    session: Session,
    event: ZaloEventIn,
    key: str,
    *,
    settings: Settings,
    limits: IntakeLimits,
    progress: ProgressSource,
) -> ZaloAnswer:
    """Act on an event `record` kept under `key`."""
    user_id = event.user_id
    if user_id is None:
        return ZaloAnswer(key, None, None)
    reply = _reply(session, event, key, user_id, settings, limits, progress)
    report_id = reply.report_id if reply else None
    if event.image_url is not None and report_id is None:
        report_id = _latest_open_report(session, user_id)
        if reply is None:
            reply = _image_reply(session, report_id)
    session.execute(
        update(ZaloEvent)
        .where(ZaloEvent.event_key == key)
        .values(report_id=report_id, image_url=event.image_url)
    )
    image_ticket = None
    if event.image_url is not None and report_id is not None:
        image_ticket = session.scalar(select(Report.ticket).where(Report.id == report_id))
    return ZaloAnswer(key, user_id, reply, image_ticket)


def _reply(
    session: Session,
    event: ZaloEventIn,
    key: str,
    user_id: str,
    settings: Settings,
    limits: IntakeLimits,
    progress: ProgressSource,
) -> sms.TextAnswer | None:
    """The answer to a user's words or location; a welcome for a new follower; None for
    an image without words and for events that ask for nothing."""
    if event.event_name == ZaloEventName.FOLLOW:
        return sms.TextAnswer(render("zalo.welcome", None), None)
    if event.event_name not in _READ or event.message is None:
        return None
    text = event.message.text
    if event.event_name == ZaloEventName.USER_SEND_IMAGE and not text.strip():
        return None
    location = event.location
    message = sms.TextMessage(
        text=text,
        channel=Channel.ZALO,
        limit_key=f"zalo:{user_id}",
        idempotency_key=key,
        zalo_user_id=user_id,
        lat=location.latitude if location else None,
        lon=location.longitude if location else None,
        occurred_at=event.occurred_at,
    )
    return sms.answer_text(
        session, message, settings=settings, limits=limits, progress=progress, wording=WORDING
    )


def _latest_open_report(session: Session, user_id: str) -> int | None:
    """The report an image without words goes with: the user's newest one still open."""
    ticket = lookup.latest_ticket(session, zalo_user_id=user_id)
    if ticket is None:
        return None
    return session.scalar(
        select(Report.id).where(Report.ticket == ticket, Report.closed_at.is_(None))
    )


def _image_reply(session: Session, report_id: int | None) -> sms.TextAnswer:
    if report_id is None:
        return sms.TextAnswer(render("zalo.image_no_report", None), None)
    ticket = session.scalar(select(Report.ticket).where(Report.id == report_id))
    return sms.TextAnswer(render("zalo.image_received", None, ticket=str(ticket)), None)


def report_images(session: Session, report_id: int) -> list[str]:
    """The image URLs customers sent over Zalo with this report, oldest first (the
    webhook fetches each into the report's photos once the event is committed)."""
    return list(
        session.scalars(
            select(ZaloEvent.image_url)
            .where(ZaloEvent.report_id == report_id, ZaloEvent.image_url.is_not(None))
            .order_by(ZaloEvent.occurred_at)
        )
    )
