"""Asking smart meters whether they have power: the head-end adapter and its HTTP API.

A ping is fire-and-forget: the head-end takes a request of meters (`ping`) and later posts
each meter's answer (on, off or no answer) to our API (`POST /api/v1/ami/pings/answers`),
read by `outage.intake.pings`. A head-end declares how many meters one request may hold
and how many it takes a minute; the pings service keeps to both. This sits in intake, beside
the meter events, because an answer is one more thing a meter tells us.

The HTTP head-end's API (docs/ami-headend.md): `POST {url}/pings` with
`{"request_id": "...", "meters": ["M-1", ...]}`, a bearer token, and the request id as the
`Idempotency-Key` header (a request sent again is the same request); any 2xx takes it.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import httpx

from outage.errors import Conflict
from outage.intake.enums import PingState
from outage.settings import Settings

PING_TIMEOUT_S = 10.0


class NoHeadEnd(Conflict, LookupError):
    """No head-end is configured: meters cannot be asked."""


class HeadEndRefused(Conflict, RuntimeError):
    """The head-end did not take a ping request: its meters stay unsent, and are sent again."""


@dataclass(frozen=True)
class HeadEndLimits:
    """What a head-end takes: meters in one request, and meters a minute."""

    max_batch: int
    max_per_minute: int


@dataclass(frozen=True)
class PingAnswer:
    """A meter's answer to a ping, as the head-end reports it."""

    request_id: str
    meter_id: str
    state: PingState
    """On, off or no answer (never pending)."""
    answered_at: datetime


class HeadEnd(Protocol):
    @property
    def limits(self) -> HeadEndLimits: ...

    def ping(self, request_id: str, meter_ids: list[str]) -> None:
        """Ask the meters; answers come later, to the answers API. Raise `HeadEndRefused`
        if the head-end does not take the request. `request_id` is the same for a request
        sent again."""


class HttpHeadEnd:
    """The documented HTTP head-end at `url`."""

    def __init__(
        self,
        url: str,
        limits: HeadEndLimits,
        *,
        token: str | None = None,
        timeout_s: float = PING_TIMEOUT_S,
    ) -> None:
        self.url = url.rstrip("/") + "/pings"
        self.limits = limits
        self._token = token
        self._client = httpx.Client(timeout=timeout_s)
        """One client for the sender's life: making one costs tens of milliseconds (its
        TLS context), which a ping verifying a restoration should not wait for."""

    def ping(self, request_id: str, meter_ids: list[str]) -> None:
        headers = {"Idempotency-Key": request_id}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = {"request_id": request_id, "meters": meter_ids}
        try:
            response = self._client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise HeadEndRefused(f"the head-end could not be reached: {error}") from error
        if not response.is_success:
            raise HeadEndRefused(f"the head-end refused the pings ({response.status_code})")


def configured_limits(settings: Settings) -> HeadEndLimits | None:
    """The limits the settings give the head-end they name; None: meters are not asked."""
    if not settings.ami_headend_url:
        return None
    return HeadEndLimits(settings.ami_headend_max_batch, settings.ami_headend_max_per_minute)


def configured_headend(settings: Settings) -> HeadEnd | None:
    """The head-end the settings name, with the limits they give it (the sender's: it
    holds an HTTP client); None: meters are not asked."""
    limits = configured_limits(settings)
    if limits is None or not settings.ami_headend_url:
        return None
    token = settings.ami_headend_token
    return HttpHeadEnd(
        settings.ami_headend_url, limits, token=token.get_secret_value() if token else None
    )
