"""HTTP webhooks of the SMS gateway and the IVR.

Both answer 200 to anything a customer may have typed or keyed, with the words to send
back: a gateway or an IVR has no use for an error about its customer's text, and would
retry it. A 422 means the webhook body itself is malformed (no sender, no call id).
"""

import json
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from outage.incidents.progress import report_progress
from outage.intake.channels import ivr, sms
from outage.intake.channels.schemas import IvrIn, IvrOut, SmsIn, SmsOut
from outage.notifications import followup, keywords
from outage.prediction.hazards import open_reported_hazard
from outage.web.deps import LimitsDep, SessionDep, SettingsDep
from outage.web.principal import require

router = APIRouter(
    prefix="/api/v1/channels",
    tags=["channels"],
    dependencies=[Depends(require("channels.webhook"))],
)


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


async def sms_message(request: Request) -> SmsIn:
    """The inbound SMS from a JSON body or from form fields (Twilio's webhook)."""
    raw: Any
    if request.headers.get("content-type", "").startswith(_FORM_TYPES):
        raw = dict(await request.form())
    else:
        try:
            raw = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": str(exc), "input": None}]
            ) from exc
    try:
        return SmsIn.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from exc


@router.post(
    "/sms",
    response_model=SmsOut,
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
    sent to the sender lately, `DANGKY|DANG KY|REG <account>` subscribes the sender to the
    account's outage alerts and `HUY|STOP [account]` stops them (notifications); words
    that tell of a hazard ("dây điện đứt", "wire down"), with a report keyword or none,
    file a hazard, answered with the
    safety advice; anything else is answered with the syntax in Vietnamese and English.
    The gateway's message id is the idempotency key, so its retries return the first
    ticket. A sender over the per-phone rate limit gets 200 with a polite "try again
    later" reply, not 429: the gateway must not retry it.
    """
    answered = followup.answer_sms(session, message, config) or keywords.answer_sms(
        session, message
    )
    if answered is not None:
        return answered
    answer = sms.handle(session, message, settings=config, limits=limits, progress=report_progress)
    return _with_hazard_opened(session, answer)


@router.post("/ivr", response_model=IvrOut)
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


Answer = TypeVar("Answer", SmsOut, IvrOut)


def _with_hazard_opened(session: Session, answer: Answer) -> Answer:
    """A hazard the message reported opens its hazard incident in this request's
    transaction, so it is committed with the report, before the customer hears back."""
    if answer.ticket is not None:
        open_reported_hazard(session, answer.ticket)
    return answer
