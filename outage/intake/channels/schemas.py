"""Webhook bodies of the SMS gateway and the IVR, and what the channels answer."""

from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from outage.i18n import Language


class _Webhook(BaseModel):
    # Gateways add fields of their own (Twilio sends a dozen): ignore them.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class SmsIn(_Webhook):
    """An inbound SMS, as JSON gateways send it or as Twilio posts it (form fields)."""

    sender: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            validation_alias=AliasChoices("from", "From", "sender", "msisdn"),
            description="The customer's number, as the gateway sends it",
        ),
    ]
    text: Annotated[
        str,
        Field(
            max_length=10_000,
            validation_alias=AliasChoices("text", "Body", "body", "message"),
            description="What the customer wrote",
        ),
    ] = ""
    message_id: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=190,
            validation_alias=AliasChoices("message_id", "MessageSid", "messageId", "id"),
            description="The gateway's id of the message: its retries carry the same one",
        ),
    ] = None


class SmsOut(BaseModel):
    reply: str
    """One SMS (GSM-7, at most 160 characters) for the gateway to send back."""
    ticket: str | None = None


class IvrIn(_Webhook):
    call_id: Annotated[str, Field(min_length=1, max_length=150)]
    caller: Annotated[str | None, Field(max_length=64, description="Caller id, if shown")] = None
    digits: Annotated[str, Field(max_length=40, description="What the caller keyed")] = ""
    language: Language | None = None
    """The language the caller chose in the IVR, if it asked."""


class IvrNext(StrEnum):
    MENU = "menu"
    """Play `say`, then collect digits again."""
    HANGUP = "hangup"
    """Play `say` and end the call: done."""
    AGENT = "agent"
    """Play `say` and transfer the call to the agents' queue."""


class IvrOut(BaseModel):
    say: str
    """Text for the IVR's text-to-speech."""
    language: Language
    ticket: str | None = None
    next: IvrNext
