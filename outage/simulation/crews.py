"""Simulated field crews: follow the dispatch plan, drive to the job, repair, restore.

The crews act through the API as a dispatcher's console and the crews' phones would: they
read `GET /dispatch/plan`, assign themselves the first job of their route when the plan
has not, say `en_route`, post their position as they drive, say `on_site`, and after the
repair time say `restored` (or cancel the incident when they find nothing wrong, as a
noise call's incident deserves). What they repair is the simulation's business
(`faults_repaired_by`); the runner hears of it through `on_repaired`.
"""

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dispatch.travel import great_circle_m
from grid_topology.model import Coordinate
from outage.simulation.client import StormClient

DRIVE_KMH = 40.0
"""Straight-line speed of a simulated crew, in simulated time."""
REPAIR_S = (15 * 60.0, 45 * 60.0)
"""Time on site for an outage, in simulated seconds (uniform)."""
MAKE_SAFE_S = (10 * 60.0, 20 * 60.0)
CABLE_REPAIR_S = (150 * 60.0, 210 * 60.0)
"""Time on site to repair a faulted cable section (the dispatch plan's typical line repair
is three hours): long enough for switching by hand around it first."""
"""Time on site to make a hazard safe."""

_WORKED = frozenset({"dispatched", "en_route", "on_site"})
"""Statuses of an incident a crew is already assigned to."""
_DONE = frozenset({"restored", "closed", "cancelled"})


class Phase(StrEnum):
    IDLE = "available"
    DRIVING = "en_route"
    WORKING = "on_site"


@dataclass
class SimCrew:
    id: int
    name: str
    position: Coordinate
    phase: Phase = Phase.IDLE
    incident_id: int | None = None
    target: Coordinate | None = None
    job: dict[str, Any] | None = None
    done_at_s: float = 0.0


def step_towards(here: Coordinate, there: Coordinate, metres: float) -> tuple[Coordinate, bool]:
    """Move up to `metres` in a straight line; (where we are now, whether we arrived)."""
    distance = great_circle_m(here, there)
    if distance <= metres or distance == 0:
        return there, True
    share = metres / distance
    return (here[0] + (there[0] - here[0]) * share, here[1] + (there[1] - here[1]) * share), False


Repaired = Callable[[dict[str, Any]], Awaitable[bool]]
"""Told the job a crew finished; answers whether the crew found a fault to repair."""


class Fleet:
    """The crews of the plan, moved one tick at a time by the runner."""

    def __init__(
        self,
        client: StormClient,
        on_repaired: Repaired,
        *,
        seed: int = 0,
        cable: Callable[[dict[str, Any]], bool] = lambda job: False,
    ) -> None:
        self.client = client
        self.on_repaired = on_repaired
        self.cable = cable
        """Whether a job's crew finds a cable fault (whatever incident it was sent to):
        its repair takes `CABLE_REPAIR_S`."""
        self.crews: dict[int, SimCrew] = {}
        self.available = True
        self._rng = random.Random(seed)

    async def tick(self, now_s: float, elapsed_s: float) -> None:
        """Advance every crew by `elapsed_s` simulated seconds; `now_s` is the storm's clock."""
        if not self.crews:
            await self._know_crews()
            if not self.available:
                return
        plan = await self.client.get("/dispatch/plan")
        if not plan.accepted or not isinstance(plan.body, dict):
            return  # no plan yet (404), or the server is busy
        if any(r["crew_id"] not in self.crews for r in plan.body.get("crews", [])):
            await self._know_crews()
        first_jobs = {
            route["crew_id"]: next(
                (job for job in route["jobs"] if job["status"] not in _DONE), None
            )
            for route in plan.body.get("crews", [])
        }
        for crew in self.crews.values():
            if crew.phase is Phase.IDLE:
                job = first_jobs.get(crew.id)
                if job is not None and job.get("lat") is not None:
                    await self._start(crew, job)
            elif crew.phase is Phase.DRIVING:
                await self._drive(crew, now_s, elapsed_s)
            elif now_s >= crew.done_at_s:
                await self._finish(crew)

    async def _know_crews(self) -> None:
        """Learn the crews and where they are; a server without crews (or a token that may
        not see them) leaves the fleet unavailable."""
        listed = await self.client.get("/crews")
        if listed.status in (401, 403, 404, 405):
            self.available = False
            return
        for crew in listed.body if listed.accepted and isinstance(listed.body, list) else []:
            if crew["id"] in self.crews:
                continue
            where = crew.get("position") or crew["depot"]
            self.crews[crew["id"]] = SimCrew(crew["id"], crew["name"], (where["lon"], where["lat"]))

    async def _start(self, crew: SimCrew, job: dict[str, Any]) -> None:
        incident = job["incident_id"]
        if job["status"] not in _WORKED:  # a job switching partly restored has no crew yet
            assigned = await self.client.act(incident, "assign", crew_id=crew.id)
            if not assigned.accepted:
                return
        if job["status"] != "en_route":
            moving = await self.client.act(incident, "en_route")
            if not moving.accepted:
                return
        crew.phase, crew.incident_id, crew.job = Phase.DRIVING, incident, job
        crew.target = (job["lon"], job["lat"])
        await self.client.position(crew.id, crew.position, crew.phase.value)

    async def _drive(self, crew: SimCrew, now_s: float, elapsed_s: float) -> None:
        assert crew.target is not None and crew.incident_id is not None
        metres = DRIVE_KMH / 3.6 * elapsed_s
        crew.position, arrived = step_towards(crew.position, crew.target, metres)
        if arrived:
            arriving = await self.client.act(crew.incident_id, "on_site")
            if not arriving.accepted:  # merged or cancelled meanwhile: back to the plan
                crew.phase, crew.incident_id, crew.job, crew.target = Phase.IDLE, None, None, None
                await self.client.position(crew.id, crew.position, crew.phase.value)
                return
            crew.phase = Phase.WORKING
            crew.done_at_s = now_s + self._rng.uniform(*self._time_on_site(crew.job or {}))
        await self.client.position(crew.id, crew.position, crew.phase.value)

    def _time_on_site(self, job: dict[str, Any]) -> tuple[float, float]:
        if self.cable(job):  # wires down there too: made safe on the way
            return CABLE_REPAIR_S
        return MAKE_SAFE_S if job.get("hazard") else REPAIR_S

    async def _finish(self, crew: SimCrew) -> None:
        assert crew.incident_id is not None and crew.job is not None
        found = await self.on_repaired(crew.job)
        if found or crew.job.get("hazard"):
            await self.client.act(crew.incident_id, "restored")
        else:
            await self.client.act(crew.incident_id, "cancel", reason="crew found no fault")
        crew.phase, crew.incident_id, crew.job, crew.target = Phase.IDLE, None, None, None
        await self.client.position(crew.id, crew.position, crew.phase.value)

    def counts(self) -> dict[str, int]:
        """Crews per phase, for the live summary."""
        return {p.value: sum(1 for c in self.crews.values() if c.phase is p) for p in Phase}
