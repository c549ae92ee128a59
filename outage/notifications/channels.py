"""Sending one message to the gateway configured for its channel.

SMS, e-mail and webhooks go through apprise: their gateways are URLs in the settings
(`notify_sms_url`, `notify_email_url`, `notify_webhook_url`). Per message the URL gets
the recipient (payload field `to` for HTTP gateways, `to=` for SMTP) and the delivery key
as an idempotency header (`Idempotency-Key` over HTTP, `X-Delivery-Key` in an e-mail), so
a gateway that honours it drops a message sent twice. An e-mail also carries its
unsubscribe link as `List-Unsubscribe`, with one-click unsubscribing (RFC 8058): mail
clients offer the button, and their POST to the link stops the contact.

Zalo has no apprise plugin: `ZaloOa` posts to the Official Account API itself
(`zalo_api_url`, `zalo_access_token`). Zalo takes no idempotency key; the delivery key
goes along as `Idempotency-Key` all the same, for a proxy or the local stand-in.
"""

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import apprise
import httpx

from outage.notifications.enums import DeliveryChannel
from outage.settings import Settings

IDEMPOTENCY_HEADER = "Idempotency-Key"
EMAIL_KEY_HEADER = "X-Delivery-Key"
UNSUBSCRIBE_HEADER = "List-Unsubscribe"
ONE_CLICK_HEADER = "List-Unsubscribe-Post"


class DeliveryFailed(RuntimeError):
    """The gateway refused or could not be reached; the reason is the message."""


@dataclass(frozen=True)
class Outgoing:
    channel: DeliveryChannel
    address: str
    subject: str
    body: str
    delivery_key: str
    stop_link: str | None = None
    """The message's unsubscribe link."""


class _ThreadLog(logging.Handler):
    """Collects apprise's warnings per thread: they are its only word on why a send failed."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(self.local, "lines", None)
        if lines is not None:
            lines.append(record.getMessage())

    def start(self) -> None:
        self.local.lines = []

    def stop(self) -> str:
        lines: list[str] = getattr(self.local, "lines", None) or []
        self.local.lines = None
        return "; ".join(lines)


_log = _ThreadLog()
logging.getLogger("apprise").addHandler(_log)


ZALO_SEND_PATH = "/v3.0/oa/message/cs"
"""The Official Account API's customer-service message: a text to one user who wrote to
the OA lately."""

ZALO_TEXT_MAX = 2000
"""The longest text a Zalo message takes."""

ZALO_TIMEOUT_S = 10.0


class ZaloOa:
    """Sends text messages through the Official Account API; thread-safe (one client)."""

    def __init__(self, base_url: str, access_token: str) -> None:
        self.url = base_url.rstrip("/") + ZALO_SEND_PATH
        self.client = httpx.Client(timeout=ZALO_TIMEOUT_S, headers={"access_token": access_token})

    def send(self, message: Outgoing) -> None:
        """Post the text to the user; raises DeliveryFailed with Zalo's reason."""
        text = message.body
        if len(text) > ZALO_TEXT_MAX:
            text = text[: ZALO_TEXT_MAX - 1] + "…"
        payload = {"recipient": {"user_id": message.address}, "message": {"text": text}}
        try:
            response = self.client.post(
                self.url, json=payload, headers={IDEMPOTENCY_HEADER: message.delivery_key}
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the Zalo API could not be reached: {exc}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise DeliveryFailed(f"the Zalo API answered HTTP {response.status_code}")
        if answer.get("error") != 0:
            reason = answer.get("message") or f"HTTP {response.status_code}"
            raise DeliveryFailed(f"the Zalo API refused it: error {answer.get('error')}, {reason}")


class Gateways:
    """The configured gateway URL of each channel, and the Zalo sender when there is one;
    thread-safe (one apprise object a send)."""

    def __init__(
        self, urls: Mapping[DeliveryChannel, str | None], zalo: ZaloOa | None = None
    ) -> None:
        self.urls = {channel: url for channel, url in urls.items() if url}
        self.zalo = zalo

    @classmethod
    def from_settings(cls, settings: Settings) -> "Gateways":
        token = settings.zalo_access_token
        return cls(
            {
                DeliveryChannel.SMS: settings.notify_sms_url,
                DeliveryChannel.EMAIL: settings.notify_email_url,
                DeliveryChannel.WEBHOOK: settings.notify_webhook_url,
            },
            ZaloOa(settings.zalo_api_url, token.get_secret_value()) if token else None,
        )

    def has(self, channel: DeliveryChannel) -> bool:
        if channel is DeliveryChannel.ZALO:
            return self.zalo is not None
        return channel in self.urls

    def _target(self, message: Outgoing) -> str:
        base = self.urls[message.channel]
        if message.channel is DeliveryChannel.EMAIL:
            extra = {"to": message.address, f"+{EMAIL_KEY_HEADER}": message.delivery_key}
            if message.stop_link:
                extra[f"+{UNSUBSCRIBE_HEADER}"] = f"<{message.stop_link}>"
                extra[f"+{ONE_CLICK_HEADER}"] = "List-Unsubscribe=One-Click"
        else:
            extra = {":to": message.address, f"+{IDEMPOTENCY_HEADER}": message.delivery_key}
        return f"{base}{'&' if '?' in base else '?'}{urlencode(extra)}"

    def send(self, message: Outgoing) -> None:
        """Hand the message to its gateway; raises DeliveryFailed with the reason."""
        if message.channel is DeliveryChannel.ZALO:
            if self.zalo is None:
                raise DeliveryFailed("no Zalo access token configured")
            self.zalo.send(message)
            return
        if message.channel not in self.urls:
            raise DeliveryFailed(f"no gateway configured for {message.channel.value}")
        plugin = apprise.Apprise.instantiate(self._target(message))
        if plugin is None:
            raise DeliveryFailed(f"the {message.channel.value} gateway URL is not valid")
        html = message.channel is DeliveryChannel.EMAIL
        _log.start()
        try:
            sent = plugin.notify(
                body=message.body,
                title="" if message.channel is DeliveryChannel.SMS else message.subject,
                body_format=apprise.NotifyFormat.HTML if html else apprise.NotifyFormat.TEXT,
            )
        finally:
            reason = _log.stop()
        if not sent:
            raise DeliveryFailed(reason or f"the {message.channel.value} gateway refused it")
