"""Crews, jobs and plans as plain data: what the optimiser takes and what it answers.

Times are timezone-aware datetimes at these boundaries; the optimiser works in whole
seconds from the moment it plans (`now`) inside. Locations are (longitude, latitude) in
WGS 84, as everywhere in the project.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from grid_topology.model import Coordinate


class Skill(StrEnum):
    OVERHEAD_LINE = "overhead_line"
    UNDERGROUND = "underground"
    SERVICE_METER = "service_meter"
    VEGETATION = "vegetation"
    SUBSTATION = "substation"


class CrewStatus(StrEnum):
    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    OFF_SHIFT = "off_shift"
    """Not planned, whatever its shift window says."""


@dataclass(frozen=True)
class Crew:
    """A field crew. It starts no job after `shift_end`, but finishes the one it started."""

    id: int
    skills: frozenset[Skill]
    shift_start: datetime
    shift_end: datetime
    depot: Coordinate
    location: Coordinate | None = None
    """Where it is now; the depot when unknown."""
    status: CrewStatus = CrewStatus.AVAILABLE
    available_from: datetime | None = None
    """Busy until then with work outside the plan (a job not handed to the optimiser)."""

    @property
    def position(self) -> Coordinate:
        return self.location if self.location is not None else self.depot


@dataclass(frozen=True)
class Job:
    """Work at one place: an incident (`id` is the incident's id) or a hazard to make safe."""

    id: int
    location: Coordinate
    repair_s: float
    """Estimated time on site, assessment included."""
    skills: frozenset[Skill] = frozenset()
    """Every one of them is needed: only a crew that has them all can take the job."""
    customers: int = 0
    """Customers out until the job is done."""
    critical: tuple[str, ...] = ()
    """The kind of each critical customer out ("hospital", "life_support", ...)."""
    hazard: bool = False
    """A danger to the public (wires down, fire): it goes before any outage."""
    pinned_crew: int | None = None
    """The dispatcher's choice of crew, kept by the optimiser (even against skills)."""
    pinned_order: int | None = None
    """With `pinned_crew`: the crew's pinned jobs with an order head its route, in order."""
    release: datetime | None = None
    """Not to be started before then (made safe, switched, reachable); None: at once."""


class UnassignedReason(StrEnum):
    NO_SKILLED_CREW = "no_skilled_crew"
    """No crew on shift has every skill the job needs."""
    PINNED_CREW_UNAVAILABLE = "pinned_crew_unavailable"
    """The pinned crew is off shift or unknown."""
    NO_TIME_IN_SHIFT = "no_time_in_shift"
    """No capable crew can start it before its shift ends."""
    NO_LOCATION = "no_location"
    """Nobody knows where it is yet (a hazard reported without a place): not a job yet."""


class Method(StrEnum):
    OPTIMISER = "optimiser"
    GREEDY = "greedy"


@dataclass(frozen=True)
class Visit:
    """A job on a crew's route."""

    job_id: int
    arrival: datetime
    start: datetime
    """Later than the arrival when the job is not released yet."""
    finish: datetime
    travel_s: int


@dataclass(frozen=True)
class Assignment:
    """The ordered work of one crew."""

    crew_id: int
    visits: tuple[Visit, ...]


@dataclass(frozen=True)
class Unassigned:
    job_id: int
    reason: UnassignedReason
    detail: str


@dataclass(frozen=True)
class Plan:
    """Who does what, in which order, and when; and what nobody can do, with the reason."""

    made_at: datetime
    method: Method
    assignments: tuple[Assignment, ...]
    """One per crew that can work, in the order the crews were given; some may be empty."""
    unassigned: tuple[Unassigned, ...]
    objective: float
    """Weighted customer-minutes: the sum over assigned jobs of the priority weight times
    the minutes from the job's release (or `made_at`) to its finish. Lower is better."""
    cmi: float
    """Customer-minutes interrupted until the assigned jobs are done (weights left out)."""
    solve_s: float
    """Wall time of planning."""
    note: str = ""
    """Why the optimiser's answer was not used, when `method` is greedy."""

    def visits(self) -> Iterator[tuple[int, Visit]]:
        """(crew id, visit) for every assigned job."""
        for assignment in self.assignments:
            for visit in assignment.visits:
                yield assignment.crew_id, visit

    def crew_of(self, job_id: int) -> int | None:
        return next((crew for crew, visit in self.visits() if visit.job_id == job_id), None)

    def visit_of(self, job_id: int) -> Visit | None:
        return next((visit for _, visit in self.visits() if visit.job_id == job_id), None)

    def route(self, crew_id: int) -> tuple[Visit, ...]:
        return next((a.visits for a in self.assignments if a.crew_id == crew_id), ())
