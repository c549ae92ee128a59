"""The simulation's HTTP client: customers, meters and crews talking to a running server.

Everything goes through the server's public API, as a real phone, gateway, head-end or
crew tablet would. A request that gets no answer, a 5xx or a 429 is sent again after a
growing pause (capped, with jitter) until `RetryPolicy.give_up_after_s`, with the same
idempotency key, so a server or database restart loses nothing and duplicates nothing.
"""

import asyncio
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx

from grid_topology.model import Coordinate
from outage.simulation.storm import Contact, ContactChannel, Reporter

API = "/api/v1"


@dataclass(frozen=True)
class RetryPolicy:
    first_delay_s: float = 0.2
    max_delay_s: float = 5.0
    give_up_after_s: float = 120.0
    timeout_s: float = 15.0
    """Of one attempt."""


@dataclass(frozen=True)
class Sent:
    """The end of one request, after its retries."""

    status: int | None
    """The last HTTP status; None when no attempt got an answer."""
    attempts: int
    body: Any = None
    """The last answer's JSON, when it had one."""
    elapsed_s: float = 0.0
    """From the first attempt to the end of the last: what the sender waited, retries and
    their pauses included."""

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Tally:
    """Running counts of what the client sent, for the live summary."""

    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    """Final 4xx: the server refused (and changed nothing)."""
    refusals: Counter[str] = field(default_factory=Counter)
    """The refused by what was asked and the answer: "PATCH /incidents/{id} 409"."""
    lost: int = 0
    """No success before the retry deadline."""
    retries: int = 0
    latencies: list[float] = field(default_factory=list)


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


STAFF_CONNECTIONS = 8
"""Connections kept for the crews' and the control room's requests."""


class StormClient:
    """One connection pool to the server; `gateway_key` also needs the `ami` scope for meters."""

    def __init__(
        self,
        base_url: str,
        *,
        gateway_key: str | None = None,
        token: str | None = None,
        approver_token: str | None = None,
        retry: RetryPolicy = RetryPolicy(),
        concurrency: int = 32,
        seed: int = 0,
    ) -> None:
        self.gateway_key = gateway_key
        self.token = token
        self.approver_token = approver_token
        """A second member of staff's: switching orders need someone else to approve them."""
        self.retry = retry
        self.tally = Tally()
        self._jitter = random.Random(seed)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=retry.timeout_s,
            limits=httpx.Limits(max_connections=concurrency + STAFF_CONNECTIONS),
        )
        self._slots = asyncio.Semaphore(concurrency)
        """Requests beyond the pool's connections wait here, not in the pool: its queue costs
        time in its length for every request, and a storm the server cannot keep up with
        queues thousands."""
        self._staff_slots = asyncio.Semaphore(STAFF_CONNECTIONS)
        """The staff's requests wait apart, on connections the customers and meters never
        take: crews and the control room use phones and consoles of their own, not a place
        in the queue behind thousands of customers' reports."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        counted: bool = True,
        staff: bool = False,
    ) -> Sent:
        """One request, retried on no answer, 5xx and 429 until the policy gives up.

        `counted` requests (the customers', meters' and crews' messages) are in the tally;
        the dispatcher's reads are not. `staff` requests take the staff's connections."""
        first = time.perf_counter()
        deadline = time.monotonic() + self.retry.give_up_after_s
        delay = self.retry.first_delay_s
        attempts = 0
        status: int | None = None
        body: Any = None
        tally = self.tally if counted else Tally()
        tally.sent += 1
        while True:
            attempts += 1
            started = time.perf_counter()
            wait = delay
            try:
                async with self._staff_slots if staff else self._slots:
                    response = await self._http.request(
                        method, path, json=json, headers=headers, params=params
                    )
            except httpx.TransportError:
                status = None
            else:
                status = response.status_code
                body = _json(response)
                if not _retryable(status):
                    tally.latencies.append(time.perf_counter() - started)
                    break
                wait = max(delay, _retry_after(response))
            if time.monotonic() + wait > deadline:
                break
            tally.retries += 1
            await asyncio.sleep(min(wait, self.retry.max_delay_s) * self._jitter.uniform(0.8, 1.2))
            delay = min(delay * 2, self.retry.max_delay_s)
        outcome = Sent(status, attempts, body, time.perf_counter() - first)
        if outcome.accepted:
            tally.accepted += 1
        elif status is None or _retryable(status):
            tally.lost += 1
        else:
            tally.rejected += 1
            tally.refusals[f"{method} {re.sub(r'/[0-9]+', '/{id}', path)} {status}"] += 1
        return outcome

    # --- customers ---------------------------------------------------------------------

    async def report(self, contact: Contact, reporter: Reporter) -> Sent:
        """A customer's report through the channel the storm chose for them."""
        match contact.channel:
            case ContactChannel.SMS:
                return await self._gateway(
                    "/channels/sms",
                    {
                        "from": reporter.phone,
                        "text": f"MAT DIEN {reporter.account} mat dien tu nay",
                        "message_id": contact.key,
                    },
                )
            case ContactChannel.IVR:
                return await self._gateway(
                    "/channels/ivr",
                    {"call_id": contact.key, "caller": reporter.phone, "digits": "1"},
                )
            case ContactChannel.WEB_GPS:
                lon, lat = contact.location or reporter.location
                body: dict[str, Any] = {"lat": lat, "lon": lon, "channel": "web"}
            case _:
                body = {"account": reporter.account, "phone": reporter.phone, "channel": "web"}
        body["description"] = "wires down in the street" if contact.hazard else "no power"
        if contact.hazard is not None:
            body["hazard"] = contact.hazard.value
        return await self.send(
            "POST", f"{API}/reports", json=body, headers={"Idempotency-Key": contact.key}
        )

    async def _gateway(self, path: str, body: dict[str, Any]) -> Sent:
        return await self.send("POST", f"{API}{path}", json=body, headers=self._key())

    def _key(self) -> dict[str, str]:
        if self.gateway_key is None:
            raise RuntimeError("SMS, IVR and meter events need an API key")
        return {"X-API-Key": self.gateway_key}

    # --- meters ------------------------------------------------------------------------

    async def meter_events(self, meters: list[str], event: str, at: datetime) -> Sent:
        """One head-end batch; the server drops events it already has, so retries are safe."""
        events = [
            {"meter_id": meter, "event": event, "occurred_at": at.isoformat()} for meter in meters
        ]
        return await self.send(
            "POST", f"{API}/ami/events", json={"events": events}, headers=self._key()
        )

    # --- staff: the dispatcher's view and the crews' actions ------------------------------

    def _staff(self) -> dict[str, str]:
        if self.token is None:
            raise RuntimeError("crews and incident reads need a staff token")
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **params: Any) -> Sent:
        return await self.send(
            "GET", f"{API}{path}", headers=self._staff(), params=params, counted=False, staff=True
        )

    async def post(self, path: str, body: dict[str, Any]) -> Sent:
        return await self.send("POST", f"{API}{path}", json=body, headers=self._staff(), staff=True)

    async def approve(self, order_path: str) -> Sent:
        """Approve a switching order as the second member of staff."""
        if self.approver_token is None:
            raise RuntimeError("approving a switching order needs a second staff token")
        return await self.send(
            "POST",
            f"{API}{order_path}/approve",
            json={},
            headers={"Authorization": f"Bearer {self.approver_token}"},
            staff=True,
        )

    async def act(self, incident_id: int, action: str, **fields: Any) -> Sent:
        """A dispatcher or crew action on an incident (PATCH)."""
        return await self.send(
            "PATCH",
            f"{API}/incidents/{incident_id}",
            json={"action": action, **fields},
            headers=self._staff(),
        )

    async def position(self, crew_id: int, where: Coordinate, status: str) -> Sent:
        lon, lat = where
        return await self.post(
            f"/crews/{crew_id}/position", {"lon": lon, "lat": lat, "status": status}
        )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("Retry-After", "0"))
    except ValueError:
        return 0.0
