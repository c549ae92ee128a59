"""The control room's switching in a storm: isolate a fault and transfer through a tie.

Through the public API, as a dispatcher would: once the engine has an incident at the
faulted device, open the isolating switch, close the tie (each operation with its reason),
and mark the incident restored by switching, so that the customers fed again are told.
After the repair, the network goes back to normal: the switch closes, the tie opens.

A refused step is written in the summary and ends the switching: closing a tie onto a
section that could not be isolated would feed the fault, and the storm goes on regardless.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from outage.simulation.client import Sent, StormClient
from outage.simulation.transfer import TransferPlan

Pause = Callable[[], Awaitable[bool]]
"""Waits a while before the next look at the incidents; False when the storm stopped."""


class ControlRoom:
    """Carries out one transfer plan and later undoes it; `note` is its summary row."""

    def __init__(self, client: StormClient, plan: TransferPlan) -> None:
        self.client = client
        self.plan = plan
        self.note = f"waiting for an incident at {plan.faulted}"
        self.isolated = False
        """The isolating switch is open."""
        self.transferred = False
        """The tie carries the customers beyond the isolating switch."""
        self.incident: int | None = None
        """The engine's incident at the faulted device."""

    async def transfer(self, pause: Pause, repaired: Callable[[], bool]) -> bool:
        """Switch once the incident shows; True when the customers were transferred."""
        self.incident = await self._incident()
        while self.incident is None:
            if not await pause() or repaired():
                self.note = f"no incident at {self.plan.faulted} before its repair"
                return False
            self.incident = await self._incident()
        plan = self.plan
        if not await self._operate(plan.isolating_switch, "open", f"isolate {plan.faulted}"):
            return False
        self.isolated = True
        closing = f"feed beyond {plan.isolating_switch} from the neighbouring feeder"
        if not await self._operate(plan.tie, "closed", closing):
            return False
        self.transferred = True
        self.note = (
            f"isolated at {plan.isolating_switch}, {len(plan.transferred)} customers "
            f"transferred through tie {plan.tie}"
        )
        return True

    async def tell(self) -> None:
        """Mark the incident restored by switching: the customers fed again hear of it."""
        assert self.incident is not None
        told = await self.client.act(
            self.incident, "restored_by_switching", reason=f"transferred through {self.plan.tie}"
        )
        if not told.accepted:
            self.note += f"; {_refusal('restored by switching', told)}"

    async def back_to_normal(self) -> None:
        """The fault is repaired: close the isolating switch, then open the tie (what of
        them was switched)."""
        plan = self.plan
        if not (self.isolated or self.transferred):
            return
        closed = not self.isolated or await self._operate(
            plan.isolating_switch, "closed", f"{plan.faulted} repaired"
        )
        was_transferred = self.transferred
        opened = not self.transferred or await self._operate(plan.tie, "open", "back to normal")
        self.isolated = self.transferred = False
        if closed and opened:
            self.note = f"back to normal: {plan.isolating_switch} closed, tie {plan.tie} open"
            if was_transferred:
                self.note += f" ({len(plan.transferred)} customers were transferred)"

    async def _incident(self) -> int | None:
        found = await self.client.get("/incidents", status="active", limit=1000)
        incidents: list[dict[str, Any]] = found.body if isinstance(found.body, list) else []
        for incident in incidents:
            if (incident.get("device") or {}).get("asset_ref") == self.plan.faulted:
                number: int = incident["id"]
                return number
        return None

    async def _operate(self, asset_ref: str, state: str, reason: str) -> bool:
        sent = await self.client.post(
            "/grid/operations",
            {
                "asset_ref": asset_ref,
                "state": state,
                "occurred_at": datetime.now(UTC).isoformat(),
                "reason": reason,
            },
        )
        if not sent.accepted:
            self.note = _refusal(f"setting {asset_ref} {state}", sent)
        return sent.accepted


def _refusal(step: str, sent: Sent) -> str:
    detail = sent.body.get("detail") if isinstance(sent.body, dict) else None
    return f"{step} refused ({sent.status or 'no answer'}{f': {detail}' if detail else ''})"
