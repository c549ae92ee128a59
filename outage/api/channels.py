"""HTTP webhooks of the SMS gateway, the IVR and Zalo's Official Account.

All answer 200 to anything a customer may have typed or keyed: a gateway, an IVR or
Zalo has no use for an error about its customer's text, and would retry it. The SMS
gateway and the IVR get the words to send back in the answer; Zalo ignores the answer,
so a Zalo reply is queued as a message for the delivery workers. A 422 means the webhook
body itself is malformed (no sender, no call id, no Zalo user).

The SMS gateway and the IVR sign in with an API key; Zalo cannot, and signs each event
instead (`X-ZEvent-Signature`), checked against the OA's secret key.
"""

import json
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from outage.care import visits
from outage.db import session_scope
from outage.i18n import DEFAULT_LANGUAGE
from outage.incidents.progress import report_progress
from outage.intake.channels import ivr, sms, zalo
from outage.intake.channels.schemas import (
    IvrIn,
    IvrOut,
    SmsIn,
    SmsOut,
    ZaloEventIn,
    ZaloOut,
    ZaloOutcome,
)
from outage.intake.photos import fetch_report_photo
from outage.media.enums import PhotoSource
from outage.notifications import followup, keywords
from outage.notifications.enums import DeliveryChannel
from outage.notifications.replies import queue_reply
from outage.prediction.hazards import open_reported_hazard
from outage.settings import Settings
from outage.web.deps import LimitsDep, SessionDep, SettingsDep
from outage.web.principal import require

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])

_GATEWAY = [Depends(require("channels.webhook"))]


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_SMS_FORM_SCHEMA = {
    "type": "object",
    "required": ["From"],
    "properties": {
        "From": {"type": "string", "description": "Sender's number"},
        "Body": {"type": "string", "description": "Message text"},
        "MessageSid": {"type": "string", "description": "Gateway's message id"},
    },
}


Parsed = TypeVar("Parsed", bound=BaseModel)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": str(exc), "input": None}]
        ) from exc


def _validated(model: type[Parsed], raw: Any) -> Parsed:
    """The body as `model`, or the 422 FastAPI answers for a body it validates itself."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from exc


async def sms_message(request: Request) -> SmsIn:
    """The inbound SMS from a JSON body or from form fields (Twilio's webhook)."""
    raw: Any
    if request.headers.get("content-type", "").startswith(_FORM_TYPES):
        raw = dict(await request.form())
    else:
        raw = _json(await request.body())
    return _validated(SmsIn, raw)


@router.post(
    "/sms",
    response_model=SmsOut,
    dependencies=_GATEWAY,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": SmsIn.model_json_schema(mode="validation")},
                "application/x-www-form-urlencoded": {"schema": _SMS_FORM_SCHEMA},
            },
        }
    },
)
def inbound_sms(
    message: Annotated[SmsIn, Depends(sms_message)],
    session: SessionDep,
    config: SettingsDep,
    limits: LimitsDep,
) -> SmsOut:
    """An SMS from a customer; `reply` is the one SMS to send back.

    Keywords (case- and accent-blind): `MATDIEN|MAT DIEN|OUT [account] [details]`,
    `NGUYHIEM|NGUY HIEM|HAZARD [account] [details]`, `TRANGTHAI|STATUS [ticket]` (the
    outage's state, cause and ETR), `HUONGDAN|HELP`; `1` answers a "still out?" follow-up
    sent to the sender lately, `KIEMTRA|VISIT [ticket]` asks for a service visit of a
    report closed because the meter has power (care), `DANGKY|DANG KY|REG <account>`
    subscribes the sender to the account's outage alerts and `HUY|STOP [account]` stops
    them (notifications); words that tell of a hazard ("dây điện đứt", "wire down"), with
    a report keyword or none, file a hazard, answered with the safety advice; anything
    else is answered with the syntax in Vietnamese and English.
    The gateway's message id is the idempotency key, so its retries return the first
    ticket. A sender over the per-phone rate limit gets 200 with a polite "try again
    later" reply, not 429: the gateway must not retry it.
    """
    answered = (
        followup.answer_sms(session, message, config)
        or keywords.answer_sms(session, message)
        or visits.answer_visit_sms(session, message, config)
    )
    if answered is not None:
        return answered
    answer = sms.handle(session, message, settings=config, limits=limits, progress=report_progress)
    return _with_hazard_opened(session, answer)


@router.post("/ivr", response_model=IvrOut, dependencies=_GATEWAY)
def ivr_choice(call: IvrIn, session: SessionDep, config: SettingsDep, limits: LimitsDep) -> IvrOut:
    """One keyed choice of a call; `say` is for text-to-speech, `next` what the IVR does then.

    Menu: nothing or `0` the menu; `1` report at the premise registered to the caller's
    number; `1*<digits>` report for that account; `3` and `4` (or `3*<digits>`,
    `4*<digits>`) report wires down and fire or sparks the same ways, answered with the
    safety advice; `2` status of the caller's newest report; `9` transfer to an agent.
    The call id with the digits is the idempotency key.
    """
    return _with_hazard_opened(
        session, ivr.handle(session, call, settings=config, limits=limits, progress=report_progress)
    )


async def zalo_event(request: Request, config: SettingsDep) -> ZaloEventIn:
    """The event, once it is known to come from Zalo: 404 while the channel is off, 422
    for a malformed body, 403 when the signature is missing or wrong, or the event is
    another app's."""
    secret = config.zalo_oa_secret_key
    if secret is None:
        raise HTTPException(404, "the Zalo channel is off: no OA secret key is configured")
    body = await request.body()
    raw = _json(body)
    event = _validated(ZaloEventIn, raw)
    signed = zalo.signed_by_zalo(
        request.headers.get(zalo.SIGNATURE_HEADER),
        app_id=str(raw["app_id"]),
        body=body,
        timestamp=str(raw["timestamp"]),
        secret=secret.get_secret_value(),
    )
    if not signed:
        raise HTTPException(403, f"missing or wrong {zalo.SIGNATURE_HEADER}")
    if config.zalo_app_id is not None and event.app_id != config.zalo_app_id:
        raise HTTPException(403, "an event of another Zalo app")
    return event


@router.post(
    "/zalo",
    response_model=ZaloOut,
    dependencies=[Depends(require("channels.zalo"))],
    openapi_extra={
        "parameters": [
            {
                "name": zalo.SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "mac=<SHA-256 of app id, raw body, timestamp, OA secret key>",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ZaloEventIn.model_json_schema(mode="validation")}
            },
        },
    },
)
def inbound_zalo(
    event: Annotated[ZaloEventIn, Depends(zalo_event)],
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    config: SettingsDep,
    limits: LimitsDep,
) -> ZaloOut:
    """An event of the utility's Zalo Official Account: a user's text (the SMS keywords,
    the alerts' `DANGKY`/`REG` and `HUY`/`STOP` first),
    shared location (a report placed there) or image (fetched into their report's photos
    once the event is committed, after the answer: Zalo wants a quick one), or a new
    follower (welcomed). The reply is queued for the delivery workers, who send it through
    the OA API; it commits with the report. Each event is acted on once (its message id,
    else a hash of it): Zalo's retries answer `duplicate` and change nothing.
    """
    key = zalo.record(session, event)
    if key is None:
        return ZaloOut(outcome=ZaloOutcome.DUPLICATE)
    if _answered_by_alerts(session, event, key):
        return ZaloOut(outcome=ZaloOutcome.ACCEPTED)
    taken = zalo.take(session, event, key, settings=config, limits=limits, progress=report_progress)
    if taken.image_ticket is not None and event.image_url is not None:
        background.add_task(
            _fetch_photo, request.app.state.sessions, taken.image_ticket, event.image_url, config
        )
    answer = taken.reply
    if answer is None or taken.user_id is None:
        return ZaloOut(outcome=ZaloOutcome.ACCEPTED)
    out = _with_hazard_opened(session, ZaloOut(outcome=ZaloOutcome.ACCEPTED, ticket=answer.ticket))
    queue_reply(
        session,
        channel=DeliveryChannel.ZALO,
        address=taken.user_id,
        text=answer.reply,
        language=answer.language or DEFAULT_LANGUAGE,
        message_key=taken.key,
        safety=answer.hazard,
    )
    return out


def _answered_by_alerts(session: Session, event: ZaloEventIn, key: str) -> bool:
    """Whether the event was an alerts keyword (its reply then queued)."""
    text, user_id = zalo.words(event), event.user_id
    if not text or user_id is None:
        return False
    answered = keywords.answer(session, DeliveryChannel.ZALO, user_id, text)
    if answered is None:
        return False
    queue_reply(
        session,
        channel=DeliveryChannel.ZALO,
        address=user_id,
        text=answered.text,
        language=answered.language,
        message_key=key,
    )
    return True


def _fetch_photo(sessions: sessionmaker[Session], ticket: str, url: str, config: Settings) -> None:
    """Keep the image a Zalo user sent as a photo of their report (a failure is recorded)."""
    with session_scope(sessions) as session:
        fetch_report_photo(session, ticket, url, source=PhotoSource.ZALO, settings=config)


Answer = TypeVar("Answer", SmsOut, IvrOut, ZaloOut)


def _with_hazard_opened(session: Session, answer: Answer) -> Answer:
    """A hazard the message reported opens its hazard incident in this request's
    transaction, so it is committed with the report, before the customer hears back."""
    if answer.ticket is not None:
        open_reported_hazard(session, answer.ticket)
    return answer
