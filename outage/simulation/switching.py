"""The control room's switching in a storm: restore around a located fault by a plan.

Through the public API, as a control room would. Once the engine has an incident at the
feeder head that opened (`SwitchingSite.tripped`), a patrol finds the fault on its line
section: the dispatcher moves the incident there. Then the dispatcher asks the service
for restoration plans (`GET /incidents/{id}/restoration-plans`), orders the best one,
a second member of staff approves the order, and the dispatcher starts it and carries
out its steps in turn: a remote-controlled device through SCADA (the step is done when
the device's SCADA event comes back), a manual one confirmed by hand once a crew had the
time the plan counts for its travel and work. Each closing gives customers their supply
back, and the server tells them. After the repair, a return-to-normal order (closings
first, so nobody is interrupted again) puts the network back as it was.

A refusal is written in the summary and ends the switching; the storm goes on.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from outage.simulation.client import Sent, StormClient
from outage.simulation.storm import StormGrid, SwitchingSite

Pause = Callable[[], Awaitable[bool]]
"""Waits a while before the next look at the incidents; False when the storm stopped."""
Wait = Callable[[float], Awaitable[bool]]
"""Waits this many simulated seconds; False when the storm stopped first."""
Restored = Callable[[frozenset[str]], Awaitable[None]]
"""Hears of the accounts a step gave supply back to."""

ORDERS = "/switching/orders"
POLL_S = 10.0
"""Simulated seconds between two looks at a step awaiting its SCADA event."""


class Refused(Exception):
    """The server refused a step of the switching; the message says which and why."""


class ControlRoom:
    """Restores around one fault by the service's best plan; `note` is its summary row."""

    def __init__(self, client: StormClient, site: SwitchingSite, grid: StormGrid) -> None:
        self.client = client
        self.site = site
        self.topology = grid.topology
        self.remote = grid.data.remote
        """Remote-controlled devices: their steps go through SCADA."""
        self.note = f"waiting for an incident at {site.tripped}"
        self.incident: int | None = None
        self.switched = False
        """An order of this room changed the network: it goes back to normal after the repair."""
        self.restored: frozenset[str] = frozenset()
        self._changes: dict[str, bool] = {site.tripped: True}
        """The devices' states as the storm left them (the head open) and the steps set them."""

    async def restore(
        self, pause: Pause, wait: Wait, repaired: Callable[[], bool], restored: Restored
    ) -> bool:
        """Plan, order and carry out the switching; True when it ran to its end."""
        self.incident = await self._incident()
        while self.incident is None:
            if not await pause() or repaired():
                self.note = f"no incident at {self.site.tripped} before its repair"
                return False
            self.incident = await self._incident()
        try:
            plan, order = await self._order(self.incident)
            return await self._carry_out(order, plan, wait, repaired, restored)
        except Refused as refusal:
            self.note = str(refusal)
            return False

    async def back_to_normal(self, wait: Wait) -> None:
        """The fault is repaired: every device the room switched goes back to normal."""
        if not self.switched:
            return
        try:
            order = await self._call(
                "drafting the return to normal",
                self.client.post(
                    f"{ORDERS}/return-to-normal",
                    {"allow_loops": True, "title": f"{self.site.line} repaired"},
                ),
            )
            order = await self._approve_and_start(order)
            for step in order["steps"]:
                if not await self._step(order["id"], step, wait):
                    return
            await self._call(
                "completing the return to normal",
                self.client.post(f"{ORDERS}/{order['id']}/complete", {}),
            )
        except Refused as refusal:
            self.note = str(refusal)
            return
        self.switched = False
        self.note = (
            f"back to normal (order {order['id']}); {len(self.restored)} customers were "
            "restored by switching"
        )

    async def _order(self, incident: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The patrol's finding, the plans, and the best plan's order approved and started."""
        site = self.site
        await self._call(
            f"moving incident {incident} to {site.line}",
            self.client.act(
                incident, "move", device=site.line, reason=f"patrol found the fault on {site.line}"
            ),
        )
        path = f"/incidents/{incident}/restoration-plans"
        plans = await self._call("asking for restoration plans", self.client.get(path))
        best = plans["plans"][0] if plans["plans"] else None
        if best is None or best["customers_restored"] == 0:
            raise Refused(f"no plan restores anyone around {site.line}")
        order = await self._call(
            f"ordering plan {best['rank']}",
            self.client.post(
                f"{path}/{best['rank']}/order", {"network_version": plans["network_version"]}
            ),
        )
        return best, await self._approve_and_start(order)

    async def _approve_and_start(self, order: dict[str, Any]) -> dict[str, Any]:
        number = order["id"]
        await self._call(f"approving order {number}", self.client.approve(f"{ORDERS}/{number}"))
        self.switched = True
        started: dict[str, Any] = await self._call(
            f"starting order {number}", self.client.post(f"{ORDERS}/{number}/start", {})
        )
        return started

    async def _carry_out(
        self,
        order: dict[str, Any],
        plan: dict[str, Any],
        wait: Wait,
        repaired: Callable[[], bool],
        restored: Restored,
    ) -> bool:
        """The steps in turn, a manual one after the crew's time the plan counts for it;
        False when the repair came first (the order is aborted) or the storm stopped."""
        number = order["id"]
        at = {s["position"]: s["at_seconds"] for s in plan["steps"]}
        clock = 0.0
        for step in order["steps"]:
            if repaired():
                await self._call(
                    f"aborting order {number}", self.client.post(f"{ORDERS}/{number}/abort", {})
                )
                self.note = f"order {number} aborted: {self.site.line} was repaired first"
                return False
            due = at.get(step["position"], clock)
            if step["asset_ref"] not in self.remote and not await wait(max(0.0, due - clock)):
                return False
            clock = due
            if not await self._step(number, step, wait):
                return False
            self._changes[step["asset_ref"]] = step["action"] == "open"
            back = self._supplied() - self.restored
            if back:
                self.restored |= back
                await restored(back)
            self.note = (
                f"order {number}: step {step['position']} of {len(order['steps'])} done, "
                f"{len(self.restored)} customers back"
            )
        await self._call(
            f"completing order {number}", self.client.post(f"{ORDERS}/{number}/complete", {})
        )
        self.note = (
            f"fault on {self.site.line} isolated, {len(self.restored)} customers restored "
            f"by switching (order {number}, {len(order['steps'])} steps)"
        )
        return True

    async def _step(self, number: int, step: dict[str, Any], wait: Wait) -> bool:
        """Carry out one step: through SCADA and until its event came back, or by hand;
        False when the storm stopped first."""
        position, device = step["position"], step["asset_ref"]
        execute = f"{ORDERS}/{number}/steps/{position}/execute"
        what = f"step {position} of order {number} ({step['action']} {device})"
        by_hand = device not in self.remote
        while True:
            order = await self._call(what, self.client.post(execute, {"by_hand": by_hand}))
            state = _state_of(order, position)
            while state == "commanded":
                if not await wait(POLL_S):
                    return False
                order = await self._call(what, self.client.get(f"{ORDERS}/{number}"))
                state = _state_of(order, position)
            if state == "done":
                return True
            by_hand = True  # SCADA never confirmed it: the crew goes and does it

    def _supplied(self) -> frozenset[str]:
        """Accounts of the fault's area with supply, as the storm and the steps left it."""
        now = self.topology.switched(self._changes)
        area = self.topology.downstream(self.site.tripped).nodes - self.site.faulted
        accounts_at = self.topology.network.accounts_at
        return frozenset(
            a for node in area if now.is_energized(node) for a in accounts_at.get(node, ())
        )

    async def _incident(self) -> int | None:
        found = await self.client.get("/incidents", status="active", limit=1000)
        incidents: list[dict[str, Any]] = found.body if isinstance(found.body, list) else []
        for incident in incidents:
            if (incident.get("device") or {}).get("asset_ref") == self.site.tripped:
                number: int = incident["id"]
                return number
        return None

    async def _call(self, what: str, request: Awaitable[Sent]) -> Any:
        sent = await request
        if not sent.accepted:
            detail = sent.body.get("detail") if isinstance(sent.body, dict) else None
            raise Refused(
                f"{what} refused ({sent.status or 'no answer'}{f': {detail}' if detail else ''})"
            )
        return sent.body


def _state_of(order: dict[str, Any], position: int) -> str:
    state: str = next(s["state"] for s in order["steps"] if s["position"] == position)
    return state
