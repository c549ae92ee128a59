"""The optimiser and the greedy rule on small hand-built instances.

Places are kilometres on a plane (`KmTravel`: one minute per kilometre), so the times
are easy to work out by hand.
"""

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch import optimizer
from dispatch.model import (
    Crew,
    CrewStatus,
    Job,
    Method,
    Plan,
    Skill,
    UnassignedReason,
)
from dispatch.optimizer import greedy_plan, plan
from dispatch.priority import Priorities
from grid_topology.model import Coordinate
from tests.dispatch.km_travel import KmTravel

NOW = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
S = Skill


TRAVEL = KmTravel()


def crew(
    id: int,
    *skills: Skill,
    at: Coordinate = (0, 0),
    start_h: float = -1,
    end_h: float = 8,
    status: CrewStatus = CrewStatus.AVAILABLE,
) -> Crew:
    return Crew(
        id=id,
        skills=frozenset(skills or (S.OVERHEAD_LINE,)),
        shift_start=NOW + timedelta(hours=start_h),
        shift_end=NOW + timedelta(hours=end_h),
        depot=at,
        status=status,
    )


def job(
    id: int,
    at: Coordinate,
    *skills: Skill,
    customers: int = 10,
    repair_min: float = 60,
    **more: Any,
) -> Job:
    """`more`: the other fields of `Job` (hazard, critical, pins, release)."""
    return Job(
        id=id,
        location=at,
        repair_s=repair_min * 60,
        skills=frozenset(skills or (S.OVERHEAD_LINE,)),
        customers=customers,
        **more,
    )


def optimised(jobs: Sequence[Job], crews: Sequence[Crew]) -> Plan:
    return plan(jobs, crews, TRAVEL, now=NOW, time_limit_s=1.0)


def greedy(jobs: Sequence[Job], crews: Sequence[Crew]) -> Plan:
    return greedy_plan(jobs, crews, TRAVEL, now=NOW)


Planner = Callable[[Sequence[Job], Sequence[Crew]], Plan]
PLANNERS: list[Planner] = [greedy, optimised]


def check_rules(result: Plan, jobs: Sequence[Job], crews: Sequence[Crew]) -> None:
    """Every rule a plan keeps, and its times adding up."""
    job_of = {j.id: j for j in jobs}
    crew_of = {c.id: c for c in crews}
    left_out = [u.job_id for u in result.unassigned]
    seen: list[int] = []
    for assignment in result.assignments:
        c = crew_of[assignment.crew_id]
        clock = max(NOW, c.shift_start, c.available_from or NOW)
        at = c.position
        pinned_order = [
            j.id
            for j in sorted(jobs, key=lambda j: (j.pinned_order or 0, j.id))
            if j.pinned_crew == c.id and j.pinned_order is not None and j.id not in left_out
        ]
        route_ids = [v.job_id for v in assignment.visits]
        assert route_ids[: len(pinned_order)] == pinned_order
        for visit in assignment.visits:
            j = job_of[visit.job_id]
            seen.append(j.id)
            if j.pinned_crew is not None:
                assert j.pinned_crew == c.id
            else:
                assert j.skills <= c.skills, (j.id, c.id)
            assert visit.travel_s == math.ceil(TRAVEL.seconds(at, j.location))
            assert visit.arrival == clock + timedelta(seconds=visit.travel_s)
            assert visit.start >= visit.arrival
            assert visit.start >= (j.release or NOW)
            assert c.shift_start <= visit.start <= c.shift_end
            assert visit.finish == visit.start + timedelta(seconds=math.ceil(j.repair_s))
            clock, at = visit.finish, j.location
    assert sorted(seen + left_out) == sorted(job_of)


@pytest.mark.parametrize("planner", PLANNERS)
def test_a_job_goes_only_to_a_crew_with_its_skills(planner: Planner) -> None:
    jobs = [job(1, (1, 0), S.UNDERGROUND), job(2, (1, 1), S.OVERHEAD_LINE, S.VEGETATION)]
    crews = [
        crew(1, S.OVERHEAD_LINE, at=(1, 0)),
        crew(2, S.UNDERGROUND, at=(20, 0)),
        crew(3, S.OVERHEAD_LINE, S.VEGETATION, at=(30, 0)),
    ]
    result = planner(jobs, crews)
    check_rules(result, jobs, crews)
    assert result.crew_of(1) == 2
    assert result.crew_of(2) == 3


@pytest.mark.parametrize("planner", PLANNERS)
def test_no_job_starts_after_the_shift_ends(planner: Planner) -> None:
    # Starts at 1, 62 and 123 minutes; the shift ends at 90: the second job runs over.
    crews = [crew(1, end_h=1.5)]
    jobs = [job(1, (1, 0), customers=30), job(2, (2, 0), customers=20), job(3, (3, 0))]
    result = planner(jobs, crews)
    check_rules(result, jobs, crews)
    assert [v.job_id for v in result.route(1)] == [1, 2]
    assert result.route(1)[-1].finish > crews[0].shift_end
    (left,) = result.unassigned
    assert (left.job_id, left.reason) == (3, UnassignedReason.NO_TIME_IN_SHIFT)


@pytest.mark.parametrize("planner", PLANNERS)
def test_a_crew_waits_for_its_shift_and_a_job_for_its_release(
    planner: Planner,
) -> None:
    crews = [crew(1, start_h=2, end_h=10, at=(0, 0))]
    jobs = [job(1, (5, 0)), job(2, (6, 0), release=NOW + timedelta(hours=5))]
    result = planner(jobs, crews)
    check_rules(result, jobs, crews)
    first, second = result.route(1)
    assert first.arrival == NOW + timedelta(hours=2, minutes=5)
    assert second.start == NOW + timedelta(hours=5) > second.arrival


@pytest.mark.parametrize("planner", PLANNERS)
def test_off_shift_crews_and_missing_skills(planner: Planner) -> None:
    crews = [
        crew(1, S.SUBSTATION, status=CrewStatus.OFF_SHIFT),
        crew(2, S.UNDERGROUND, start_h=-9, end_h=-1),
        crew(3),
    ]
    jobs = [job(1, (1, 0), S.SUBSTATION), job(2, (1, 0), S.UNDERGROUND), job(3, (2, 0))]
    result = planner(jobs, crews)
    check_rules(result, jobs, crews)
    assert [a.crew_id for a in result.assignments] == [3]
    reasons = {u.job_id: u.reason for u in result.unassigned}
    assert reasons == {1: UnassignedReason.NO_SKILLED_CREW, 2: UnassignedReason.NO_SKILLED_CREW}
    assert result.crew_of(3) == 3


@pytest.mark.parametrize("planner", PLANNERS)
def test_pinned_jobs_stay_with_their_crew_in_the_dispatchers_order(
    planner: Planner,
) -> None:
    crews = [crew(1, at=(0, 0)), crew(2, S.SERVICE_METER, at=(20, 0))]
    jobs = [
        # Near crew 1 and not in crew 2's skills, but the dispatcher wants crew 2.
        job(1, (1, 0), customers=500, pinned_crew=2),
        job(2, (2, 0), customers=5, pinned_crew=2, pinned_order=2),
        job(3, (3, 0), customers=1, pinned_crew=2, pinned_order=1),
        job(4, (1, 1), customers=50),
        job(5, (2, 2), customers=40, hazard=True),
    ]
    result = planner(jobs, crews)
    check_rules(result, jobs, crews)
    route = [v.job_id for v in result.route(2)]
    assert route[:2] == [3, 2]
    assert 1 in route
    assert {v.job_id for v in result.route(1)} == {4, 5}


@pytest.mark.parametrize("planner", PLANNERS)
def test_a_pin_to_a_crew_off_shift_leaves_the_job_out(planner: Planner) -> None:
    crews = [crew(1), crew(2, status=CrewStatus.OFF_SHIFT)]
    jobs = [job(1, (1, 0), pinned_crew=2), job(2, (1, 0), pinned_crew=9, pinned_order=0)]
    result = planner(jobs, crews)
    assert {(u.job_id, u.reason) for u in result.unassigned} == {
        (1, UnassignedReason.PINNED_CREW_UNAVAILABLE),
        (2, UnassignedReason.PINNED_CREW_UNAVAILABLE),
    }


def test_ordered_pins_past_the_shift_end_are_left_out() -> None:
    crews = [crew(1, end_h=1.5)]
    jobs = [job(i, (i, 0), pinned_crew=1, pinned_order=i) for i in (1, 2, 3)]
    result = optimised(jobs, crews)
    check_rules(result, jobs, crews)
    assert [v.job_id for v in result.route(1)] == [1, 2]
    assert [(u.job_id, u.reason) for u in result.unassigned] == [
        (3, UnassignedReason.NO_TIME_IN_SHIFT)
    ]


@pytest.mark.parametrize("planner", PLANNERS)
def test_hazards_go_first(planner: Planner) -> None:
    # The outage is nearer, quicker to mend and has many customers out; the hazard has none.
    crews = [crew(1)]
    jobs = [
        job(1, (1, 0), customers=2000, repair_min=30),
        job(2, (8, 0), customers=0, repair_min=60, hazard=True),
    ]
    result = planner(jobs, crews)
    check_rules(result, jobs, crews)
    assert [v.job_id for v in result.route(1)] == [2, 1]


@pytest.mark.parametrize("planner", PLANNERS)
def test_critical_customers_go_before_more_customers(planner: Planner) -> None:
    crews = [crew(1)]
    jobs = [
        job(1, (1, 0), customers=800),
        job(2, (5, 0), customers=20, critical=("hospital",)),
    ]
    result = planner(jobs, crews)
    assert [v.job_id for v in result.route(1)] == [2, 1]


def test_the_optimiser_does_the_quick_job_first_where_the_greedy_rule_does_not() -> None:
    # Greedy takes the most customers first: 100 x 300 + 90 x 310 = 57,900 customer-minutes.
    # The quick job first: 90 x 10 + 100 x 310 = 31,900 (travel aside).
    crews = [crew(1)]
    jobs = [
        job(1, (0, 0), customers=100, repair_min=300),
        job(2, (0, 0), customers=90, repair_min=10),
    ]
    slow = greedy(jobs, crews)
    fast = optimised(jobs, crews)
    assert [v.job_id for v in slow.route(1)] == [1, 2]
    assert [v.job_id for v in fast.route(1)] == [2, 1]
    assert fast.method is Method.OPTIMISER
    assert fast.cmi == pytest.approx(31_900)
    assert slow.cmi == pytest.approx(57_900)


def random_instance(rng: random.Random, jobs: int, crews: int) -> tuple[list[Job], list[Crew]]:
    kinds = [frozenset({S.OVERHEAD_LINE}), frozenset({S.UNDERGROUND}), frozenset({S.SERVICE_METER})]
    crew_list = [
        crew(
            i + 1,
            *(kinds[i % 3] | {S.SERVICE_METER}),
            at=(rng.uniform(0, 10), rng.uniform(0, 10)),
            start_h=rng.choice([-1, 0, 1]),
            end_h=rng.uniform(3, 6),
        )
        for i in range(crews)
    ]
    job_list = [
        job(
            i + 1,
            (rng.uniform(0, 10), rng.uniform(0, 10)),
            *rng.choice(kinds),
            customers=int(rng.paretovariate(1.2)),
            repair_min=rng.uniform(20, 120),
            hazard=rng.random() < 0.1,
            critical=("life_support",) if rng.random() < 0.1 else (),
            release=NOW + timedelta(minutes=rng.uniform(0, 120)) if rng.random() < 0.2 else None,
        )
        for i in range(jobs)
    ]
    return job_list, crew_list


@pytest.mark.parametrize("seed", range(3))
def test_the_optimiser_is_no_worse_than_the_greedy_rule(seed: int) -> None:
    jobs, crews = random_instance(random.Random(seed), jobs=25, crews=5)
    baseline = greedy(jobs, crews)
    result = optimised(jobs, crews)
    check_rules(baseline, jobs, crews)
    check_rules(result, jobs, crews)
    assert len(result.unassigned) <= len(baseline.unassigned)
    if len(result.unassigned) == len(baseline.unassigned):
        assert result.objective <= baseline.objective


def test_a_new_incident_is_planned_in_on_the_next_run() -> None:
    jobs, crews = random_instance(random.Random(7), jobs=15, crews=4)
    first = optimised(jobs, crews)
    later = NOW + timedelta(minutes=20)
    hazard = job(99, (5, 5), customers=0, hazard=True)
    moved = [replace(c, location=(5, 4)) if c.id == 1 else c for c in crews]
    second = plan([*jobs, hazard], moved, TRAVEL, now=later, time_limit_s=1.0)
    assert first.crew_of(99) is None
    crew_id = second.crew_of(99)
    assert crew_id is not None
    assert second.route(crew_id)[0].job_id == 99
    assert second.made_at == later


def test_no_time_for_the_optimiser_gives_the_greedy_plan() -> None:
    jobs, crews = random_instance(random.Random(1), jobs=10, crews=3)
    result = plan(jobs, crews, TRAVEL, now=NOW, time_limit_s=0)
    assert result.method is Method.GREEDY
    assert result.note == "no time left for the optimiser"
    assert result.assignments == greedy(jobs, crews).assignments


def test_a_failing_solver_gives_the_greedy_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> list[list[int]]:
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(optimizer, "_solve", broken)
    jobs, crews = random_instance(random.Random(2), jobs=10, crews=3)
    result = optimised(jobs, crews)
    assert result.method is Method.GREEDY
    assert "solver exploded" in result.note
    check_rules(result, jobs, crews)


def test_nothing_to_plan() -> None:
    assert optimised([], [crew(1)]).assignments[0].visits == ()
    result = optimised([job(1, (0, 0))], [])
    assert result.assignments == ()
    assert result.unassigned[0].reason is UnassignedReason.NO_SKILLED_CREW


def test_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="job ids"):
        optimised([job(1, (0, 0)), job(1, (1, 0))], [crew(1)])
    with pytest.raises(ValueError, match="crew ids"):
        optimised([job(1, (0, 0))], [crew(1), crew(1)])


def test_plan_answers_where_a_job_is() -> None:
    crews = [crew(1), crew(2, S.UNDERGROUND, at=(9, 9))]
    jobs = [job(1, (1, 0)), job(2, (9, 8), S.UNDERGROUND, customers=3, repair_min=30)]
    result = greedy(jobs, crews)
    assert result.method is Method.GREEDY
    assert result.crew_of(2) == 2
    visit = result.visit_of(2)
    assert visit is not None
    assert (visit.arrival, visit.finish) == (
        NOW + timedelta(minutes=1),
        NOW + timedelta(minutes=31),
    )
    assert result.visit_of(3) is None and result.crew_of(3) is None
    assert result.route(7) == ()
    assert result.cmi == pytest.approx(10 * 61 + 3 * 31)
    assert sorted(v.job_id for _, v in result.visits()) == [1, 2]


def test_guided_local_search_penalties_are_in_the_objectives_units() -> None:
    # GLS penalises arcs by their travel; the objective is weighted delay. Ten times the
    # weights must make the penalty coefficient ten times larger, not leave it at travel's.
    jobs, crews = random_instance(random.Random(3), jobs=20, crews=4)
    base = Priorities()
    tenfold = Priorities(
        hazard_weight=10 * base.hazard_weight,
        critical_weights={k: 10 * w for k, w in base.critical_weights.items()},
        other_critical_weight=10 * base.other_critical_weight,
        customer_weight=10 * base.customer_weight,
        min_weight=10 * base.min_weight,
    )
    coefficients = []
    for priorities in (base, tenfold):
        inst = optimizer._prepare(jobs, crews, TRAVEL, NOW, priorities)
        routes = optimizer._greedy_routes(inst, priorities)
        coefficients.append(optimizer._gls_lambda(inst, routes, optimizer.COST_SCALE))
    assert coefficients[1] == pytest.approx(10 * coefficients[0], rel=1e-3)
    assert coefficients[0] > 1000 * optimizer.GLS_LAMBDA
