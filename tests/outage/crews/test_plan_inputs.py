"""What the planner takes from each incident: its tier, the critical customers below it,
its place, and an assignment it must keep."""

import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import text

from dispatch.model import Skill, UnassignedReason
from grid_topology.topology import Topology
from outage.crews import damage
from outage.crews.schemas import DamageIn
from outage.db import session_factory, session_scope
from outage.incidents.actions import apply_action
from outage.incidents.enums import Action
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import Hazard

from .conftest import NOW, Places, away, crew_of, incident_row, plan_now


def test_a_dispatchers_own_assignment_is_kept(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    new_crew("near", here)
    far = new_crew("far", away(here, 10))
    incident = new_incident(places.fuses[0])
    with session_scope(session_factory(crews_database)) as session:
        patch = IncidentPatch(action=Action.ASSIGN, crew_id=far)
        apply_action(session, incident, patch, "test-dispatcher")
    assert crew_of(plan_now(crews_database, topology), incident) == far


def test_a_crew_on_site_keeps_its_job(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    far = new_crew("far", away(here, 10))
    incident = new_incident(places.fuses[0])
    plan_now(crews_database, topology)
    with session_scope(session_factory(crews_database)) as session:
        apply_action(session, incident, IncidentPatch(action=Action.ON_SITE), "crew")
    new_crew("near", here)
    result = plan_now(crews_database, topology)
    assert crew_of(result, incident) == far
    assert incident_row(crews_database, incident).status == IncidentStatus.ON_SITE


def test_hazards_go_first_on_a_crews_route(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    outage, wires = places.fuses[0], places.fuses[1]
    new_crew("only one", places.location[outage])
    big = new_incident(outage, customers=300)
    hazard = new_incident(wires, customers=5, hazard=Hazard.WIRES_DOWN)
    [route] = plan_now(crews_database, topology).crews
    assert [j.incident_id for j in route.jobs] == [hazard, big]
    assert route.jobs[0].tier == "hazard"


def test_critical_customers_below_the_device_are_found(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    new_crew("lines", places.location[places.critical_transformer])
    incident = new_incident(places.critical_transformer, customers=3)
    [route] = plan_now(crews_database, topology).crews
    [job] = route.jobs
    assert job.incident_id == incident
    assert places.critical_kind in job.critical
    assert job.tier == "critical"


def test_a_hazard_without_a_place_waits_for_one(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(None, customers=0, hazard=Hazard.FIRE)
    result = plan_now(crews_database, topology)
    [left] = result.unassigned
    assert (left.job.incident_id, left.reason) == (incident, UnassignedReason.NO_LOCATION)


def _assess(database_url: str, incident: int, skill: Skill, hours: float) -> None:
    report = DamageIn(
        incident_id=incident,
        assessed_at=NOW - timedelta(minutes=5),
        crew_type_needed=skill,
        hours_needed=hours,
    )
    with session_scope(session_factory(database_url)) as session:
        damage.report_damage(session, report, key=uuid.uuid4().hex, reported_by="an", now=NOW)


def test_assessed_damage_sets_the_jobs_hours_and_crew_type(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    new_crew("lines", here, skills=(Skill.OVERHEAD_LINE,))
    trees = new_crew("trees", away(here, 5), skills=(Skill.VEGETATION,))
    incident = new_incident(places.fuses[0])
    _assess(crews_database, incident, Skill.VEGETATION, hours=7.5)
    result = plan_now(crews_database, topology)
    [job] = [j for route in result.crews for j in route.jobs if j.incident_id == incident]
    assert crew_of(result, incident) == trees
    assert job.planned_start is not None and job.planned_finish is not None
    assert job.planned_finish - job.planned_start == timedelta(hours=7.5)


def test_assessed_damage_sets_the_etr_from_its_hours(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(places.fuses[0])
    _assess(crews_database, incident, Skill.OVERHEAD_LINE, hours=20)
    result = plan_now(crews_database, topology)
    [job] = [j for route in result.crews for j in route.jobs if j.incident_id == incident]
    assert job.planned_etr is not None and job.planned_start is not None
    assert job.planned_etr - job.planned_start >= timedelta(hours=20)
    assert job.planned_etr - job.planned_start < timedelta(hours=20, minutes=30)


def test_assessed_work_already_done_on_site_is_not_counted_again(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    crew = new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(places.fuses[0])
    _assess(crews_database, incident, Skill.OVERHEAD_LINE, hours=20)
    with session_scope(session_factory(crews_database)) as session:
        for patch in (
            IncidentPatch(action=Action.ASSIGN, crew_id=crew),
            IncidentPatch(action=Action.ON_SITE),
        ):
            apply_action(session, incident, patch, "test")
        session.execute(
            text(
                "UPDATE incident_events SET at = :at WHERE incident_id = :id AND action = 'on_site'"
            ),
            {"at": NOW - timedelta(hours=3), "id": incident},
        )
    result = plan_now(crews_database, topology)
    [job] = [j for route in result.crews for j in route.jobs if j.incident_id == incident]
    assert job.planned_finish is not None and job.planned_start is not None
    assert job.planned_finish - job.planned_start == timedelta(hours=17)
