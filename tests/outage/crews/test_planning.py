"""Planning on a real database: who gets which job and from when, the ETRs the plan
writes, and re-planning only when something changed."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.etr import EtrSource, Stage
from dispatch.model import Method, Skill, UnassignedReason
from grid_topology.topology import Topology
from outage.clock import Clock
from outage.crews import planning
from outage.crews import service as crews
from outage.crews.etr import estimate_outcomes
from outage.crews.jobs import Replanner
from outage.crews.schemas import CrewPatch
from outage.db import session_factory, session_scope
from outage.incidents.actions import apply_action
from outage.incidents.changes import set_etr
from outage.incidents.enums import Action, AuditAction
from outage.incidents.models import Incident, IncidentEvent
from outage.incidents.schemas import IncidentPatch
from outage.settings import get_settings
from outage.storms import service as storms
from outage.storms.enums import EtrScope, StormPhase
from outage.storms.schemas import StormIn

from .conftest import NOW, Places, away, crew_of, incident_row, plan_now, settings_for_tests, shift


def test_a_job_goes_only_to_a_crew_with_its_skills(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.breaker]
    near = new_crew("lines, right there", here, (Skill.OVERHEAD_LINE,))
    far = new_crew("substation, far", away(here, 8), (Skill.SUBSTATION,))
    incident = new_incident(places.breaker, customers=500)
    result = plan_now(crews_database, topology)
    assert crew_of(result, incident) == far != near
    assert incident_row(crews_database, incident).crew_id == far


def test_crews_off_shift_get_nothing(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    new_crew("went home", here, shifts=[shift(hours_from_now=-10, hours=8)])
    new_crew("tomorrow", here, shifts=[shift(hours_from_now=20)])
    incident = new_incident(places.fuses[0])
    result = plan_now(crews_database, topology)
    assert result.crews == []
    [left] = result.unassigned
    assert left.job.incident_id == incident
    assert left.reason is UnassignedReason.NO_SKILLED_CREW
    assert incident_row(crews_database, incident).crew_id is None


def test_an_incident_being_changed_gets_its_estimate_from_the_next_plan(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    new_crew("lines", places.location[places.fuses[0]])
    busy, free = new_incident(places.fuses[0]), new_incident(places.fuses[2])
    with session_factory(crews_database)() as changing:
        changing.execute(
            select(Incident.id).where(Incident.id == busy).with_for_update(key_share=True)
        )
        plan_now(crews_database, topology)
        changing.rollback()
    assert incident_row(crews_database, busy).etr is None
    assert incident_row(crews_database, free).etr is not None
    plan_now(crews_database, topology)
    assert incident_row(crews_database, busy).etr is not None


def test_a_crew_starting_soon_gets_work_from_its_shift_start(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    crew = new_crew("morning shift", here, shifts=[shift(hours_from_now=2)])
    incident = new_incident(places.fuses[0])
    result = plan_now(crews_database, topology)
    [route] = result.crews
    assert (route.crew_id, route.jobs[0].incident_id) == (crew, incident)
    start = route.jobs[0].planned_start
    assert start is not None and start >= NOW + timedelta(hours=2)


def test_the_planner_moves_its_own_assignment_when_a_better_crew_comes(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    far = new_crew("far", away(here, 10))
    incident = new_incident(places.fuses[0])
    assert crew_of(plan_now(crews_database, topology), incident) == far
    near = new_crew("near", here)
    assert crew_of(plan_now(crews_database, topology), incident) == near
    assert incident_row(crews_database, incident).crew_id == near


def test_the_plan_sets_an_estimated_etr(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(places.fuses[0])
    result = plan_now(crews_database, topology)
    row = incident_row(crews_database, incident)
    [job] = result.crews[0].jobs
    assert job.planned_finish is not None
    assert row.etr_source == EtrSource.PREDICTED
    assert row.etr == job.planned_etr
    assert row.etr > job.planned_finish - timedelta(minutes=1)
    assert NOW < row.etr_earliest <= row.etr <= row.etr_latest  # rounding may join them


def test_the_plans_estimate_is_learnt_from_once_the_incident_is_restored(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(places.fuses[0])  # started half an hour ago
    made = NOW - timedelta(minutes=25)
    plan_now(crews_database, topology, now=made)
    row = incident_row(crews_database, incident)
    restored = made + timedelta(minutes=20)
    with session_scope(session_factory(crews_database)) as session:
        apply_action(session, incident, IncidentPatch(action=Action.RESTORED, at=restored), "test")
    with session_scope(session_factory(crews_database)) as session:
        [outcome] = estimate_outcomes(session, now=restored)
    assert outcome.stage is Stage.BEFORE_ARRIVAL
    assert outcome.actual_s == 20 * 60
    # What the parts added up to, before rounding up to the next five minutes.
    assert (row.etr - made).total_seconds() - 300 < outcome.estimate.expected_s
    assert outcome.estimate.expected_s <= (row.etr - made).total_seconds()


def test_an_outage_estimated_again_and_again_is_learnt_from_by_its_first_estimate(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(places.fuses[0])
    made = NOW - timedelta(minutes=25)
    plan_now(crews_database, topology, now=made)
    restored = made + timedelta(minutes=24)
    with session_scope(session_factory(crews_database)) as session:
        before = len(estimate_outcomes(session, now=restored))
        first = session.scalars(
            select(IncidentEvent.details["estimate"]).where(
                IncidentEvent.incident_id == incident, IncidentEvent.action == AuditAction.ETR_SET
            )
        ).one()
        for minutes in (5, 10, 15):
            again = {**first, "made_at": (made + timedelta(minutes=minutes)).isoformat()}
            set_etr(session, incident, etr=restored + timedelta(minutes=minutes), estimate=again)
        apply_action(session, incident, IncidentPatch(action=Action.RESTORED, at=restored), "test")
    with session_scope(session_factory(crews_database)) as session:
        outcomes = estimate_outcomes(session, now=restored)
    assert len(outcomes) == before + 1  # other tests' outages count too
    assert [o.actual_s for o in outcomes].count(24 * 60) == 1


def test_a_dispatchers_etr_wins_over_the_estimate(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(places.fuses[0])
    promised = NOW + timedelta(hours=7, minutes=13)
    with session_scope(session_factory(crews_database)) as session:
        patch = IncidentPatch(action=Action.SET_ETR, etr=promised)
        apply_action(session, incident, patch, "test-dispatcher")
    result = plan_now(crews_database, topology)
    row = incident_row(crews_database, incident)
    assert (row.etr, row.etr_source) == (promised, EtrSource.DISPATCHER)
    [job] = result.crews[0].jobs
    assert job.etr == job.planned_etr == promised


def test_replan_plans_only_when_something_changed(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
    session: Session,
) -> None:
    config = settings_for_tests()
    crew = new_crew("lines", places.location[places.fuses[0]])
    first = new_incident(places.fuses[0])

    def replan() -> int | None:
        with session_scope(session_factory(crews_database)) as session:
            return planning.replan(session, now=NOW, topology=lambda: topology, config=config)

    assert replan() is not None
    assert replan() is None
    second = new_incident(places.fuses[1], customers=40)
    assert replan() is not None
    assert incident_row(crews_database, second).crew_id == crew
    assert incident_row(crews_database, first).crew_id == crew


def test_replan_reestimates_an_etr_about_to_lapse(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    config = replace(settings_for_tests(), plan_max_age=timedelta(days=1))
    new_crew("lines", places.location[places.breaker], shifts=[shift(hours=30)])
    incident = new_incident(places.breaker)

    def replan(now: datetime) -> int | None:
        with session_scope(session_factory(crews_database)) as session:
            return planning.replan(session, now=now, topology=lambda: topology, config=config)

    assert replan(NOW)
    before = incident_row(crews_database, incident)
    # Past the expected time but well before the range's latest: nothing lapses yet.
    assert before.etr_latest - before.etr > timedelta(minutes=20)
    assert replan(before.etr + timedelta(minutes=1)) is None
    assert replan(before.etr_latest - timedelta(minutes=5)) is not None
    assert incident_row(crews_database, incident).etr_latest > before.etr_latest


def test_the_optimiser_is_compared_with_the_greedy_rule(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    for n, fuse in enumerate(places.fuses[:2]):
        new_crew(f"crew {n}", away(places.location[fuse], 3))
    for n, fuse in enumerate(places.fuses[:8]):
        new_incident(fuse, customers=10 + 30 * n)
    result = plan_now(crews_database, topology)
    assert result.method in (Method.OPTIMISER, Method.GREEDY)
    assert sum(len(c.jobs) for c in result.crews) == 8
    assert 0 < result.weighted_customer_minutes <= result.greedy_weighted_customer_minutes


def test_on_a_scaled_clock_the_etr_is_reckoned_from_its_time(
    crews_database: str,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
    scaled_clock: Clock,
) -> None:
    new_crew("lines", places.location[places.fuses[0]], shifts=[shift(hours=40)])
    incident = new_incident(places.fuses[0])
    before = scaled_clock.now()
    Replanner(session_factory(crews_database), get_settings())()
    etr = incident_row(crews_database, incident).etr
    assert etr is not None and etr > before


def _storm(database_url: str, phase: StormPhase) -> int:
    with session_scope(session_factory(database_url)) as session:
        storm = StormIn(name="Yagi", level=2, phase=phase)
        return storms.declare(session, storm, actor="supervisor", now=NOW)


def test_while_a_storm_is_assessed_no_outage_gets_a_time_but_the_storm_does(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    _storm(crews_database, StormPhase.ASSESSING)
    new_crew("lines", places.location[places.fuses[0]])
    incidents = [new_incident(fuse) for fuse in places.fuses[:3]]
    plan_now(crews_database, topology)
    assert all(incident_row(crews_database, i).etr is None for i in incidents)
    with session_scope(session_factory(crews_database)) as session:
        state = storms.current(session)
    assert state is not None and state.etr is not None
    assert NOW < state.etr[0] <= state.etr[1]


def test_in_the_job_phase_each_outage_gets_its_storm_estimate(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    _storm(crews_database, StormPhase.JOB)
    new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(places.fuses[0])
    plan_now(crews_database, topology)
    assert incident_row(crews_database, incident).etr is not None
    with session_scope(session_factory(crews_database)) as session:
        [record] = session.scalars(
            select(IncidentEvent.details["estimate"]).where(
                IncidentEvent.incident_id == incident, IncidentEvent.action == AuditAction.ETR_SET
            )
        ).all()
    assert record["storm"] is True


def test_the_storms_time_covers_its_last_outage(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    _storm(crews_database, StormPhase.JOB)
    new_crew("lines", places.location[places.fuses[0]])
    incidents = [new_incident(fuse) for fuse in places.fuses[:3]]
    plan_now(crews_database, topology)
    latest = max(incident_row(crews_database, i).etr_latest for i in incidents)
    with session_scope(session_factory(crews_database)) as session:
        state = storms.current(session)
    assert state is not None and state.etr is not None
    assert state.etr[1] == latest


def _change(database_url: str, crew: int, **fields: datetime) -> None:
    with session_scope(session_factory(database_url)) as session:
        crews.update_crew(session, crew, CrewPatch.model_validate(fields))


def test_a_crew_from_elsewhere_gets_work_only_from_its_arrival(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    crew = new_crew("lent", here)
    _change(crews_database, crew, arrives_at=NOW + timedelta(hours=2))
    incident = new_incident(places.fuses[0])
    [route] = plan_now(crews_database, topology).crews
    assert (route.crew_id, route.jobs[0].incident_id) == (crew, incident)
    start = route.jobs[0].planned_start
    assert start is not None and start >= NOW + timedelta(hours=2)


def test_a_crew_arriving_after_its_shift_gets_nothing(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    crew = new_crew("too late", here, shifts=[shift(hours_from_now=-1, hours=3)])
    _change(crews_database, crew, arrives_at=NOW + timedelta(hours=5))
    new_incident(places.fuses[0])
    assert plan_now(crews_database, topology).crews == []


def test_a_released_crew_is_never_planned(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    crew = new_crew("sent home", here)
    _change(crews_database, crew, released_at=NOW - timedelta(minutes=1))
    incident = new_incident(places.fuses[0])
    result = plan_now(crews_database, topology)
    assert result.crews == []
    assert [left.job.incident_id for left in result.unassigned] == [incident]


def test_a_crew_starts_no_job_after_its_release(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    crew = new_crew("leaving soon", here, shifts=[shift(hours_from_now=2)])
    _change(crews_database, crew, released_at=NOW + timedelta(hours=1))
    new_incident(places.fuses[0])
    assert plan_now(crews_database, topology).crews == []


def test_in_the_global_phase_each_outage_is_told_the_storms_time(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    _storm(crews_database, StormPhase.GLOBAL)
    new_crew("lines", places.location[places.fuses[0]])
    incidents = [new_incident(fuse) for fuse in places.fuses[:3]]
    plan_now(crews_database, topology)
    with session_scope(session_factory(crews_database)) as session:
        state = storms.current(session)
        scopes = session.scalars(select(Incident.etr_scope).where(Incident.id.in_(incidents))).all()
    assert state is not None and state.etr is not None
    rows = [incident_row(crews_database, i) for i in incidents]
    assert all(r.etr == state.etr[0] and r.etr_latest is None for r in rows)
    assert set(scopes) == {EtrScope.STORM}


def test_when_a_region_is_assessed_its_outages_estimates_are_withdrawn(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(places.fuses[0])
    plan_now(crews_database, topology)
    assert incident_row(crews_database, incident).etr is not None
    _storm(crews_database, StormPhase.ASSESSING)
    plan_now(crews_database, topology)
    row = incident_row(crews_database, incident)
    assert (row.etr, row.etr_source, row.etr_latest) == (None, None, None)


def test_the_storms_time_is_estimated_again_before_it_passes(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    _storm(crews_database, StormPhase.GLOBAL)
    new_crew("lines", places.location[places.fuses[0]], shifts=[shift(hours=40)])
    incident = new_incident(places.fuses[0])
    plan_now(crews_database, topology)
    told = incident_row(crews_database, incident).etr
    plan_now(crews_database, topology, now=told - timedelta(minutes=10))
    assert incident_row(crews_database, incident).etr > told
