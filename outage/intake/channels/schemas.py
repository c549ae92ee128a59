"""Webhook bodies of the SMS gateway, the IVR and Zalo, and what the channels answer."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from outage.fields import Latitude, Longitude, Text
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


class ZaloUser(_Webhook):
    id: Annotated[Text, Field(min_length=1, max_length=64)]


class ZaloCoordinates(_Webhook):
    # Zalo sends them as strings ("10.7769"): read as numbers.
    latitude: Latitude
    longitude: Longitude


class ZaloAttachmentPayload(_Webhook):
    url: Annotated[Text | None, Field(max_length=2000)] = None
    """Where Zalo holds an image (or file) the user sent."""
    coordinates: ZaloCoordinates | None = None
    """A shared location."""


class ZaloAttachment(_Webhook):
    type: Annotated[str | None, Field(max_length=32)] = None
    payload: ZaloAttachmentPayload | None = None


class ZaloMessage(_Webhook):
    msg_id: Annotated[Text | None, Field(min_length=1, max_length=190)] = None
    text: Annotated[Text, Field(max_length=10_000)] = ""
    attachments: Annotated[list[ZaloAttachment], Field(max_length=20)] = []


class ZaloEventName(StrEnum):
    """The events of Zalo's OA webhook the channel acts on; others are taken and ignored."""

    USER_SEND_TEXT = "user_send_text"
    USER_SEND_LOCATION = "user_send_location"
    USER_SEND_IMAGE = "user_send_image"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"


_USER_MESSAGES = {
    ZaloEventName.USER_SEND_TEXT,
    ZaloEventName.USER_SEND_LOCATION,
    ZaloEventName.USER_SEND_IMAGE,
}

_IMAGE = "image"
"""The attachment type of a picture the user sent."""

ZALO_TIMESTAMP_MAX = 10**14
"""Milliseconds since 1970 well past any real event (the year 5138): larger is garbage."""


class ZaloEventIn(_Webhook):
    """One event of a Zalo Official Account's webhook, as Zalo documents it."""

    app_id: Annotated[str, Field(min_length=1, max_length=64)]
    event_name: Annotated[Text, Field(min_length=1, max_length=64)]
    timestamp: Annotated[int, Field(gt=0, lt=ZALO_TIMESTAMP_MAX, description="Milliseconds")]
    sender: ZaloUser | None = None
    recipient: ZaloUser | None = None
    follower: ZaloUser | None = None
    """The user of a `follow` or `unfollow` event."""
    message: ZaloMessage | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        """A user's message names its sender and holds what its event says it holds."""
        if self.event_name in _USER_MESSAGES and (self.sender is None or self.message is None):
            raise ValueError(f"a {self.event_name} event needs a sender and a message")
        if self.event_name in (ZaloEventName.FOLLOW, ZaloEventName.UNFOLLOW) and (
            self.user_id is None
        ):
            raise ValueError(f"a {self.event_name} event needs a follower")
        if self.event_name == ZaloEventName.USER_SEND_LOCATION and self.location is None:
            raise ValueError("a user_send_location event needs attachment coordinates")
        if self.event_name == ZaloEventName.USER_SEND_IMAGE and self.image_url is None:
            raise ValueError("a user_send_image event needs an attachment url")
        return self

    @property
    def user_id(self) -> str | None:
        """The Zalo user the event is about, and whom a reply goes to."""
        user = self.follower or self.sender
        return user.id if user else None

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC)

    @property
    def location(self) -> ZaloCoordinates | None:
        return next((p.coordinates for p in self._payloads() if p.coordinates), None)

    @property
    def image_url(self) -> str | None:
        """The image a user_send_image event carries; never the URL of a link or file a
        user sent, which the server would otherwise fetch."""
        if self.event_name != ZaloEventName.USER_SEND_IMAGE:
            return None
        return next((p.url for p in self._payloads(_IMAGE) if p.url), None)

    def _payloads(self, kind: str | None = None) -> list[ZaloAttachmentPayload]:
        attachments = self.message.attachments if self.message else []
        return [
            a.payload
            for a in attachments
            if a.payload is not None and (kind is None or a.type == kind)
        ]


class ZaloOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    """The event was acted on before: nothing done again."""


class ZaloOut(BaseModel):
    """What the webhook answers; Zalo reads only the status code (the reply goes through
    the OA API)."""

    outcome: ZaloOutcome
    ticket: str | None = None
