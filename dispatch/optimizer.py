"""Who does which job, in which order: the plan that restores the most customers soonest.

The objective is the weighted sum of completion times: for every job, its priority weight
(`dispatch.priority`) times the time from its release to the moment its repair is done
(travel, waiting and repair of the jobs before it on the crew's route, then its own).
Kilometres do not count, except as a tie-breaker.

Rules every plan keeps:

- skills: a job goes only to a crew that has every skill it needs;
- shifts: a crew starts no job before its shift starts (or it is free) nor after its
  shift ends; it finishes the job it has started, overtime if need be;
- release: no job starts before its release time;
- pins: a pinned job is served by its pinned crew (even one without the skills: the
  dispatcher knows better); the crew's pinned jobs with an order head its route in that
  order, its other pinned jobs go anywhere on its route.

`plan` solves it with OR-Tools' vehicle routing: vehicles are crews starting where they
are; a time dimension whose transits are travel plus the repair of the job left; release
times as lower bounds of the jobs' cumuls; shift windows as bounds of the vehicles' start
and end cumuls (the end is reached at no cost from the last job, so its cumul is the
last job's start); skills as each job's allowed vehicles; the weighted completion times
as a soft upper bound of 0 with the job's weight on each job's cumul (its start: start
plus the fixed repair is its completion); a disjunction with a penalty above any plan's
cost on each job, so a job no crew can fit in is dropped, not the whole plan. The search
starts from the greedy plan (guided local search, its penalties scaled to the objective:
`_gls_lambda`), and stops at the time limit or when it has found nothing better for a
while.

`greedy_plan` is the fallback (OR-Tools failed or had no time) and the baseline: the most
urgent job left (`Priorities.rank`) goes to the capable crew that can finish it soonest,
at the end of that crew's route, until every job is placed or fits nowhere.
"""

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.model import (
    Assignment,
    Crew,
    CrewStatus,
    Job,
    Method,
    Plan,
    Unassigned,
    UnassignedReason,
    Visit,
)
from dispatch.priority import DEFAULT_PRIORITIES, Priorities
from dispatch.travel import GreatCircleTravel, TravelTime

DEFAULT_TIME_LIMIT_S = 5.0
"""Wall time of `plan`, model building and the greedy plan included."""

COST_SCALE = 100
"""Cost units per weight-second of delay; a second of driving costs 1 (the tie-breaker)."""

GLS_LAMBDA = 0.1
"""Guided local search's penalty coefficient (OR-Tools' default), in the objective's units."""

STALL_SHARE = 0.5
MIN_STALL_S = 0.5
"""The search stops early when it has improved nothing for this share of its time limit
(at least `MIN_STALL_S`): guided local search would otherwise use all of it."""

_MAX_COST = 2**62
"""Every cost the solver may add up stays below this (it counts in 64-bit integers)."""

_FINISHING_S = 0.3
"""Time kept back from the solver: it overruns its limit a little (more on a busy machine),
and its answer is read."""


@dataclass
class _Instance:
    """The jobs that can be planned, the crews that can work, in seconds from `now`.

    Nodes: jobs 0..J-1, then the crews' positions J..J+K-1 (`travel` is over nodes).
    """

    now: datetime
    jobs: list[Job]
    crews: list[Crew]
    travel: list[list[int]]
    repair: list[int]
    release: list[int]
    weight: list[int]
    ready: list[int]
    """Per crew: when it can set off."""
    end: list[int]
    """Per crew: its shift end, the latest start of a job."""
    candidates: list[list[int]]
    """Per job: the crews (indexes) that may take it."""
    chains: list[list[int]]
    """Per crew: its pinned jobs with an order, which head its route."""
    unassigned: list[Unassigned]
    """Jobs left out before planning, with the reason."""

    def crew_node(self, crew: int) -> int:
        return len(self.jobs) + crew


@dataclass(frozen=True)
class _Stop:
    job: int
    arrival: int
    start: int
    finish: int
    travel: int


def _seconds(moment: datetime, now: datetime) -> int:
    return math.ceil((moment - now).total_seconds())


def _working(crews: Sequence[Crew], now: datetime) -> list[tuple[Crew, int, int]]:
    """(crew, ready, shift end) of the crews that can work, times in seconds from now."""
    working = []
    for crew in crews:
        starts = [0, _seconds(crew.shift_start, now)]
        if crew.available_from is not None:
            starts.append(_seconds(crew.available_from, now))
        shift_end = math.floor((crew.shift_end - now).total_seconds())
        if crew.status is not CrewStatus.OFF_SHIFT and max(starts) <= shift_end:
            working.append((crew, max(starts), shift_end))
    return working


def _prepare(
    jobs: Sequence[Job],
    crews: Sequence[Crew],
    travel: TravelTime,
    now: datetime,
    priorities: Priorities,
) -> _Instance:
    if len({j.id for j in jobs}) != len(jobs):
        raise ValueError("job ids must be unique")
    if len({c.id for c in crews}) != len(crews):
        raise ValueError("crew ids must be unique")
    working = _working(crews, now)
    ready = [r for _, r, _ in working]
    end = [e for _, _, e in working]
    index_of = {crew.id: k for k, (crew, _, _) in enumerate(working)}
    full = travel.matrix([j.location for j in jobs] + [c.position for c, _, _ in working])
    first_crew = len(jobs)
    release = [max(0, _seconds(job.release or now, now)) for job in jobs]

    def left_out(job: Job, reason: UnassignedReason, detail: str) -> None:
        unassigned.append(Unassigned(job.id, reason, detail))

    unassigned: list[Unassigned] = []
    kept: list[int] = []
    candidates: list[list[int]] = []
    ordered: dict[int, list[int]] = {}
    for j, job in enumerate(jobs):
        if job.pinned_crew is not None and job.pinned_crew not in index_of:
            left_out(
                job,
                UnassignedReason.PINNED_CREW_UNAVAILABLE,
                f"pinned to crew {job.pinned_crew}, which is not on shift",
            )
            continue
        if job.pinned_crew is not None and job.pinned_order is not None:
            ordered.setdefault(index_of[job.pinned_crew], []).append(j)
            continue
        if job.pinned_crew is not None:
            able = [index_of[job.pinned_crew]]
        else:
            able = [k for k, (crew, _, _) in enumerate(working) if job.skills <= crew.skills]
        if not able:
            needs = ", ".join(sorted(job.skills))
            left_out(job, UnassignedReason.NO_SKILLED_CREW, f"no crew on shift has all of: {needs}")
            continue
        able = [k for k in able if max(ready[k] + full[first_crew + k][j], release[j]) <= end[k]]
        if not able:
            left_out(
                job,
                UnassignedReason.NO_TIME_IN_SHIFT,
                "no capable crew can get there before its shift ends",
            )
            continue
        kept.append(j)
        candidates.append(able)
    chains: list[list[int]] = [[] for _ in working]
    for k, chain in ordered.items():
        chain.sort(key=lambda j: (jobs[j].pinned_order or 0, jobs[j].id))
        clock, at = ready[k], first_crew + k
        for j in chain:
            start = max(clock + full[at][j], release[j])
            if start > end[k]:
                left_out(
                    jobs[j],
                    UnassignedReason.NO_TIME_IN_SHIFT,
                    f"pinned to crew {working[k][0].id}, whose shift ends before it",
                )
                continue
            clock, at = start + math.ceil(jobs[j].repair_s), j
            chains[k].append(len(kept))
            kept.append(j)
            candidates.append([k])
    nodes = kept + list(range(first_crew, first_crew + len(working)))
    planned = [jobs[j] for j in kept]
    return _Instance(
        now=now,
        jobs=planned,
        crews=[crew for crew, _, _ in working],
        travel=full
        if nodes == list(range(len(full)))
        else [[full[a][b] for b in nodes] for a in nodes],
        repair=[math.ceil(j.repair_s) for j in planned],
        release=[release[j] for j in kept],
        weight=[priorities.weight(j) for j in planned],
        ready=ready,
        end=end,
        candidates=candidates,
        chains=chains,
        unassigned=unassigned,
    )


def _schedule(inst: _Instance, routes: Sequence[Sequence[int]]) -> list[list[_Stop]] | None:
    """Earliest times along each route; None if a route breaks a rule."""
    timed: list[list[_Stop]] = []
    for crew, route in enumerate(routes):
        if list(route[: len(inst.chains[crew])]) != inst.chains[crew]:
            return None
        clock, at, stops = inst.ready[crew], inst.crew_node(crew), []
        for job in route:
            if crew not in inst.candidates[job]:
                return None
            drive = inst.travel[at][job]
            start = max(clock + drive, inst.release[job])
            if start > inst.end[crew]:
                return None
            stops.append(_Stop(job, clock + drive, start, start + inst.repair[job], drive))
            clock, at = start + inst.repair[job], job
        timed.append(stops)
    served = [stop.job for stops in timed for stop in stops]
    if len(served) != len(set(served)):
        return None
    return timed


def _cost(inst: _Instance, timed: Sequence[Sequence[_Stop]]) -> tuple[int, int]:
    """(weight of the jobs left out, weighted seconds to done): lower is better."""
    served = {stop.job: stop.finish for stops in timed for stop in stops}
    left_out = sum(w for j, w in enumerate(inst.weight) if j not in served)
    done = sum(inst.weight[j] * (finish - inst.release[j]) for j, finish in served.items())
    return left_out, done


def _greedy_routes(inst: _Instance, priorities: Priorities) -> list[list[int]]:
    routes = [list(chain) for chain in inst.chains]
    clock, at = list(inst.ready), [inst.crew_node(k) for k in range(len(inst.crews))]
    for crew, chain in enumerate(inst.chains):
        for job in chain:
            start = max(clock[crew] + inst.travel[at[crew]][job], inst.release[job])
            clock[crew], at[crew] = start + inst.repair[job], job
    chained = {job for chain in inst.chains for job in chain}
    order = sorted(
        (j for j in range(len(inst.jobs)) if j not in chained),
        key=lambda j: priorities.rank(inst.jobs[j]),
    )
    for job in order:
        best: tuple[int, int] | None = None
        for crew in inst.candidates[job]:
            start = max(clock[crew] + inst.travel[at[crew]][job], inst.release[job])
            if start <= inst.end[crew] and (best is None or start < best[0]):
                best = (start, crew)
        if best is not None:
            start, crew = best
            routes[crew].append(job)
            clock[crew], at[crew] = start + inst.repair[job], job
    return routes


def _gls_lambda(inst: _Instance, routes: Sequence[Sequence[int]], scale: int) -> float:
    """Guided local search's penalty coefficient for this instance's costs.

    GLS penalises arcs in units of the arc cost, here seconds of driving (the tie-breaker),
    while what the search trades is weighted delay, millions of times more per second: at
    OR-Tools' default coefficient the penalties never outweigh a real cost and the search
    stays in its first local optimum. Scaled by the starting plan's cost per second of
    driving, they weigh against the objective as GLS means them to.
    """
    timed = _schedule(inst, routes) or []
    stops = [stop for route in timed for stop in route]
    delay = scale * sum(inst.weight[stop.job] * stop.start for stop in stops)
    drive = sum(stop.travel for stop in stops)
    return GLS_LAMBDA * (delay + drive) / max(1, drive)


def _solve(
    inst: _Instance, warm_start: Sequence[Sequence[int]], time_limit_s: float
) -> list[list[int]]:
    """OR-Tools' best routes within the time limit; raises RuntimeError when it has none."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    jobs, crews = len(inst.jobs), len(inst.crews)
    sink = jobs + crews
    manager = pywrapcp.RoutingIndexManager(
        jobs + crews + 1, crews, [inst.crew_node(k) for k in range(crews)], [sink] * crews
    )
    routing = pywrapcp.RoutingModel(manager)

    travel = [[*row, 0] for row in inst.travel] + [[0] * (sink + 1)]
    service = inst.repair + [0] * (crews + 1)
    transit = [
        [0 if b == sink else service[a] + travel[a][b] for b in range(sink + 1)]
        for a in range(sink + 1)
    ]
    horizon = max(inst.end) + 1
    max_drive = max((max(row) for row in travel), default=0)
    scale = COST_SCALE
    bound = (jobs + crews) * max_drive + 1
    while scale > 1 and 2 * jobs * (scale * sum(inst.weight) * horizon + bound) > _MAX_COST:
        scale //= 10
    everything = scale * sum(inst.weight) * horizon + bound
    if 2 * jobs * everything > _MAX_COST:
        raise RuntimeError("the costs of this instance overflow 64-bit integers")

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(travel))
    routing.AddDimension(routing.RegisterTransitMatrix(transit), horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for job in range(jobs):
        index = manager.NodeToIndex(job)
        clock.CumulVar(index).SetMin(inst.release[job])
        if len(inst.candidates[job]) < crews:
            # -1: unperformed. (SetAllowedVehiclesForIndex does not take a list in Python.)
            routing.VehicleVar(index).SetValues([-1, *inst.candidates[job]])
        clock.SetCumulVarSoftUpperBound(index, 0, scale * inst.weight[job])
        # Above the cost of any plan that serves it: dropped only when it fits nowhere.
        routing.AddDisjunction([index], everything + scale * inst.weight[job] * horizon)
    for crew in range(crews):
        clock.CumulVar(routing.Start(crew)).SetRange(inst.ready[crew], inst.end[crew])
        clock.CumulVar(routing.End(crew)).SetMax(inst.end[crew])
        previous = routing.Start(crew)
        for job in inst.chains[crew]:
            index = manager.NodeToIndex(job)
            routing.solver().Add(routing.NextVar(previous) == index)
            previous = index

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    # Used only when the greedy plan cannot be read in as the first solution.
    parameters.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    parameters.guided_local_search_lambda_coefficient = _gls_lambda(inst, warm_start, scale)
    parameters.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    routing.CloseModelWithParameters(parameters)
    stall_s = max(MIN_STALL_S, STALL_SHARE * time_limit_s)
    best = [math.inf, time.perf_counter()]

    def on_solution() -> None:
        """Stops the search once it has found nothing better for `stall_s`."""
        cost, now = routing.CostVar().Value(), time.perf_counter()
        if cost < best[0]:
            best[0], best[1] = cost, now
        elif now - best[1] > stall_s:
            routing.solver().FinishCurrentSearch()

    routing.AddAtSolutionCallback(on_solution)
    initial = routing.ReadAssignmentFromRoutes(
        [[manager.NodeToIndex(j) for j in route] for route in warm_start], True
    )
    if initial is not None:
        solution = routing.SolveFromAssignmentWithParameters(initial, parameters)
    else:
        solution = routing.SolveWithParameters(parameters)
    if solution is None:
        raise RuntimeError(f"no solution (routing status {routing.status()})")
    routes = []
    for crew in range(crews):
        route, index = [], solution.Value(routing.NextVar(routing.Start(crew)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def _plan_from(
    inst: _Instance,
    timed: Sequence[Sequence[_Stop]],
    *,
    method: Method,
    started: float,
    note: str = "",
) -> Plan:
    def at(second: int) -> datetime:
        return inst.now + timedelta(seconds=second)

    served = {stop.job for stops in timed for stop in stops}
    unassigned = list(inst.unassigned) + [
        Unassigned(
            job.id,
            UnassignedReason.NO_TIME_IN_SHIFT,
            "no capable crew has time for it before its shift ends",
        )
        for j, job in enumerate(inst.jobs)
        if j not in served
    ]
    stops = [stop for route in timed for stop in route]
    return Plan(
        made_at=inst.now,
        method=method,
        assignments=tuple(
            Assignment(
                crew.id,
                tuple(
                    Visit(inst.jobs[s.job].id, at(s.arrival), at(s.start), at(s.finish), s.travel)
                    for s in route
                ),
            )
            for crew, route in zip(inst.crews, timed, strict=True)
        ),
        unassigned=tuple(unassigned),
        objective=sum(inst.weight[s.job] * (s.finish - inst.release[s.job]) for s in stops) / 60,
        cmi=sum(inst.jobs[s.job].customers * (s.finish - inst.release[s.job]) for s in stops) / 60,
        solve_s=time.perf_counter() - started,
        note=note,
    )


def greedy_plan(
    jobs: Sequence[Job],
    crews: Sequence[Crew],
    travel: TravelTime | None = None,
    *,
    now: datetime,
    priorities: Priorities = DEFAULT_PRIORITIES,
) -> Plan:
    """The most urgent job left to the capable crew that can finish it soonest, repeatedly."""
    started = time.perf_counter()
    inst = _prepare(jobs, crews, travel or GreatCircleTravel(), now, priorities)
    timed = _schedule(inst, _greedy_routes(inst, priorities))
    if timed is None:  # pragma: no cover - the greedy rule keeps the rules by construction
        raise AssertionError("the greedy plan broke a rule")
    return _plan_from(inst, timed, method=Method.GREEDY, started=started)


def plan(
    jobs: Sequence[Job],
    crews: Sequence[Crew],
    travel: TravelTime | None = None,
    *,
    now: datetime,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    priorities: Priorities = DEFAULT_PRIORITIES,
) -> Plan:
    """The optimised plan, or the greedy one when the optimiser has nothing better in time.

    Takes at most `time_limit_s` of wall time in all; less when the search stalls.
    """
    started = time.perf_counter()
    inst = _prepare(jobs, crews, travel or GreatCircleTravel(), now, priorities)
    greedy_routes = _greedy_routes(inst, priorities)
    greedy = _schedule(inst, greedy_routes)
    if greedy is None:  # pragma: no cover - the greedy rule keeps the rules by construction
        raise AssertionError("the greedy plan broke a rule")
    if not inst.jobs or not inst.crews:
        return _plan_from(inst, greedy, method=Method.OPTIMISER, started=started)
    budget = time_limit_s - (time.perf_counter() - started) - _FINISHING_S
    if budget <= 0:
        note = "no time left for the optimiser"
        return _plan_from(inst, greedy, method=Method.GREEDY, started=started, note=note)
    try:
        optimised = _schedule(inst, _solve(inst, greedy_routes, budget))
    except Exception as error:  # OR-Tools failing must not leave the dispatcher without a plan
        note = f"optimiser failed: {error}"
        return _plan_from(inst, greedy, method=Method.GREEDY, started=started, note=note)
    if optimised is None:
        note = "the optimiser's answer broke a rule"
        return _plan_from(inst, greedy, method=Method.GREEDY, started=started, note=note)
    if _cost(inst, optimised) > _cost(inst, greedy):
        note = "the optimiser found nothing better than the greedy plan"
        return _plan_from(inst, greedy, method=Method.GREEDY, started=started, note=note)
    return _plan_from(inst, optimised, method=Method.OPTIMISER, started=started)
