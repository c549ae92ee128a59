"""Restoration by switching: customer-minutes against repair only and against an upper bound.

In process and pure: no database, no server. On each grid, seeded scenarios put faults on
MV lines (`SINGLE` on one line, `MULTIPLE` on two or three at once); each fault trips its
nearest protective device. For every scenario the planner (`grid_topology.restoration`)
gives its best plan and that plan's timeline. Both arms have the same crews and travel:

- `CREWS` crews start at the grid's substations (or its middle). Travel is
  `dispatch.travel.GreatCircleTravel` with its defaults, as the dispatch plan counts it.
- Repair: each fault goes to the crew that reaches it first (a crew busy on another fault
  of the scenario goes on from there once done); it is repaired after the crew's travel,
  the assessment and the typical repair of a line (`dispatch.etr` defaults).
- A manual switching step goes to the crew that gets there first (from its depot or its
  last step), which gets ready on site for `OPERATE_S` and operates on the word once the
  step before is done (a minute after it at the soonest); a remote-controlled one takes
  `REMOTE_S`: the service's defaults and the planner's timeline (steps one after
  another, crews travelling and getting ready meanwhile).

Customer-minutes interrupted (CMI), over all scenarios, for the customers below the
operated devices; a customer's outage ends when the last fault below its operated device
is repaired, at the latest:

- `cmi_repair_only`: every such customer out until that repair.
- `cmi_with_switching`: a customer the plan restores is back at its step's time.
- `cmi_upper_bound`: every *re-feedable* customer back at time zero, as a linear
  programme: a dead area outside the faulted sections (nodes joined through devices in
  any state) may take power through every live point it touches; each rated element on
  those points' paths to the grid's source carries its flow after the outage plus what
  it feeds, measured along the direction that sum will have (never more than the
  apparent power, so never stricter than the rating), within its rating; any share of
  any node of the area may come back through any of the area's touches (customer-minutes
  weighted). Flows split at will, no radiality and no limits inside the area: every
  simplification lets more back than radial switching within ratings could, so no
  switching of the dead area and its ties can do better (moving live load off a feeder
  first, which the planner never does, is not counted). Without loads or ratings it is
  every customer joined to a live point.

`cmi_plan_at_once`: the plan's customers back at time zero, the rest at repair: between it
and `cmi_with_switching` lies the time the steps take, between it and the bound the
customers the plan does not re-feed (sections that cannot be cut finer, more cuts than
`Options.max_cuts`, and the bound's simplifications).

`reduction` = 1 - with switching / repair only (goal: at least 0.4). `of_upper_bound`: the
share of the bound's saving that switching achieves, (repair only - with switching) /
(repair only - upper bound) (1.0 is the bound itself; goal: at least 0.9). A ratio of the
CMIs themselves would say little: on a grid where every customer can be re-fed (ring main
units at both ends of every cable) the bound is zero.
`customers_out`, `restored_by_switching`, `refeedable` (in dead areas that touch supply,
capacity aside): customers, summed over the scenarios. `solve_p50_s`, `solve_p99_s`,
`solve_max_s`: the planner's time per scenario, with the topology's load pass done (a
running service keeps it: `Topology.sums_below`).

Grids: SimBench 1-MVLV-urban-all-0-sw and 1-MVLV-semiurb-all-0-sw; with `--quick` the
urban grid alone with fewer scenarios; the bundled sample grid without the simbench extra.
The top-level figures are the first grid's; `table` has every grid.
"""

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ortools.linear_solver import pywraplp

from benchmarks.harness import percentile
from dispatch.etr import DEFAULT_REPAIR_MIN, assessment_s
from dispatch.travel import GreatCircleTravel
from grid_topology.geojson import read_grid
from grid_topology.model import SWITCHING_KINDS, Coordinate, DeviceKind, GridModel
from grid_topology.restoration import (
    Crews,
    GridData,
    Incident,
    Options,
    Plan,
    plan_restoration,
    sections,
)
from grid_topology.simbench import SimbenchUnavailable, import_simbench
from grid_topology.topology import Network, Topology
from outage.settings import get_settings

GRIDS = ("1-MVLV-urban-all-0-sw", "1-MVLV-semiurb-all-0-sw")
SINGLE, MULTIPLE = 40, 10
QUICK_SINGLE, QUICK_MULTIPLE = 8, 2
CREWS = 3
REMOTE_S = 30.0
OPERATE_S = 10 * 60.0
REPAIR_S = DEFAULT_REPAIR_MIN[DeviceKind.LINE][0] * 60.0
"""A line's typical repair once the fault is found."""

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Grid:
    name: str
    model: GridModel
    topology: Topology
    data: GridData
    places: dict[str, Coordinate]
    """asset_ref -> where a crew goes to it (the middle of a line's route)."""
    depots: list[Coordinate]

    @classmethod
    def from_model(cls, name: str, model: GridModel) -> "Grid":
        places = {d.asset_ref: d.path[len(d.path) // 2] for d in model.devices if d.path}
        points = [s.location for s in model.substations] or [
            (
                sum(n.location[0] for n in model.nodes) / len(model.nodes),
                sum(n.location[1] for n in model.nodes) / len(model.nodes),
            )
        ]
        depots = [points[i % len(points)] for i in range(CREWS)]
        topology = Topology(Network.from_model(model))
        return cls(name, model, topology, GridData.from_model(model), places, depots)


@dataclass(frozen=True)
class Outcome:
    """One scenario's figures."""

    faults: int
    customers_out: int
    restored: int
    refeedable: int
    cmi_repair_only: float
    cmi_with_switching: float
    cmi_upper_bound: float
    cmi_plan_at_once: float
    solve_s: float


def mv_lines(model: GridModel) -> list[str]:
    return sorted(
        d.asset_ref
        for d in model.devices
        if d.kind is DeviceKind.LINE and not d.is_open and (d.voltage_kv or 0) > 1
    )


def incident_at(topology: Topology, lines: Sequence[str]) -> Incident:
    """Faults on these lines, each tripping its nearest protective device."""
    links = topology.network.links
    nodes = frozenset(links[line].to_node for line in lines)
    operated = tuple(dict.fromkeys(topology.protective_chain(node)[0] for node in sorted(nodes)))
    return Incident(nodes, operated)


def repair_times(grid: Grid, lines: Sequence[str], travel: GreatCircleTravel) -> dict[str, float]:
    """Seconds from the fault to each line repaired: the crew that gets there first, in turn."""
    crews = [(0.0, depot) for depot in grid.depots]
    done: dict[str, float] = {}
    for line in lines:
        there = grid.places[line]
        arrivals = [free + travel.seconds(at, there) for free, at in crews]
        crew = min(range(len(crews)), key=arrivals.__getitem__)
        done[line] = arrivals[crew] + assessment_s(DeviceKind.LINE) + REPAIR_S
        crews[crew] = (done[line], there)
    return done


@dataclass(frozen=True)
class Bound:
    """What no switching can beat."""

    saved_minutes: float
    refeedable: int
    """Customers in the dead areas that touch supply, capacity aside."""


def upper_bound(
    grid: Grid, incident: Incident, out: frozenset[str], back_at: dict[str, float]
) -> Bound:
    """The most customer-minutes switching could save: a linear programme over the dead
    areas outside the faulted sections (see the module's docstring)."""
    topology = grid.topology
    live = topology.switched(dict.fromkeys(incident.operated, True))
    flows = live.sums_below(grid.data.loads)
    ratings, loads = grid.data.ratings, grid.data.loads
    accounts_at = topology.network.accounts_at
    areas: list[tuple[list[tuple[float, complex]], list[tuple[str, ...]]]] = []
    """Per dead area that touches supply: (value, demand) of its nodes, and the rated
    elements on each touch's way to the grid's source."""
    dead = set(out - sections(topology, incident.faulted))
    refeedable = 0
    while dead:
        area, touches = _dead_area(topology, live, dead.pop(), dead)
        dead -= area
        if not touches:
            continue
        refeedable += sum(len(accounts_at.get(n, ())) for n in area)
        nodes = [
            (sum(back_at.get(a, 0.0) for a in accounts_at.get(n, ())), loads.get(n, 0j))
            for n in area
        ]
        paths = [
            tuple(e for e in (device, *live.upstream_of_node(end).devices) if ratings.get(e))
            for device, end in touches
        ]
        areas.append(([(v, s) for v, s in nodes if v > 0 or s.real < 0], paths))
    return Bound(_programme(areas, ratings, flows) / 60, refeedable)


def _programme(
    areas: list[tuple[list[tuple[float, complex]], list[tuple[str, ...]]]],
    ratings: Mapping[str, float],
    flows: Mapping[str, complex],
) -> float:
    """Each node may be fed in any shares through its area's touches; an element carries
    its flow after the outage plus all it feeds, measured along the direction that flow
    will have (the apparent power is at least that), within its rating."""
    pull: dict[str, complex] = {}
    for nodes, paths in areas:
        demand = sum((s for _, s in nodes), 0j)
        for element in {e for path in paths for e in path}:
            pull[element] = pull.get(element, 0j) + demand
    solver = pywraplp.Solver.CreateSolver("GLOP")
    objective = solver.Objective()
    objective.SetMaximization()
    through: dict[str, list[tuple[pywraplp.Variable, complex]]] = {}
    for nodes, paths in areas:
        for value, demand in nodes:
            whole = solver.Constraint(0.0, 1.0)
            for path in paths:
                share = solver.NumVar(0.0, 1.0, "")
                whole.SetCoefficient(share, 1.0)
                objective.SetCoefficient(share, value)
                for element in path:
                    through.setdefault(element, []).append((share, demand))
    for element, shares in through.items():
        way = flows.get(element, 0j) + pull[element]
        way = way / abs(way) if abs(way) > 0 else 1 + 0j
        room = ratings[element] - _along(flows.get(element, 0j), way)
        limit = solver.Constraint(-solver.infinity(), max(room, 0.0))
        for share, demand in shares:
            limit.SetCoefficient(share, _along(demand, way))
    if not solver.NumVariables():
        return 0.0
    status = solver.Solve()
    if status != pywraplp.Solver.OPTIMAL:
        raise RuntimeError(f"the upper bound's linear programme ended with status {status}")
    return float(objective.Value())


def _along(power: complex, way: complex) -> float:
    """The component of `power` along the unit `way`: never more than its magnitude."""
    return power.real * way.real + power.imag * way.imag


def _dead_area(
    topology: Topology, live: Topology, start: str, dead: set[str]
) -> tuple[set[str], list[tuple[str, str]]]:
    """The nodes of `dead` joined to `start` through devices in any state, and the
    (device, live node) pairs through which they touch supply."""
    links = topology.network.links
    area, touches, stack = {start}, [], [start]
    while stack:
        node = stack.pop()
        for asset_ref in topology.devices_at(node):
            link = links[asset_ref]
            other = link.to_node if link.from_node == node else link.from_node
            if other in dead and other not in area:
                area.add(other)
                stack.append(other)
            elif other not in dead and other not in area and live.is_energized(other):
                touches.append((asset_ref, other))
    return area, touches


def scenario(grid: Grid, lines: Sequence[str], travel: GreatCircleTravel) -> Outcome:
    topology, links = grid.topology, grid.topology.network.links
    incident = incident_at(topology, lines)
    repaired = repair_times(grid, lines, travel)
    crews = Crews(
        starts=tuple(grid.depots),
        place=grid.places.get,
        travel=travel.seconds,
        operate_seconds=OPERATE_S,
    )
    options = Options(
        remote_seconds=REMOTE_S,
        crews=crews,
        repair_seconds=max(repaired.values()),
        plans=1,
    )
    started = time.perf_counter()
    plan: Plan = plan_restoration(topology, incident, grid.data, options)[0]
    solve_s = time.perf_counter() - started
    # Each customer's repair: the last fault below its operated device.
    back_at: dict[str, float] = {}
    out_nodes: set[str] = set()
    for device in incident.operated:
        below = topology.downstream(device)
        out_nodes |= below.nodes
        repair = max(t for line, t in repaired.items() if links[line].to_node in below.nodes)
        for account in below.accounts:
            back_at[account] = max(back_at.get(account, 0.0), repair)
    switched = {a: step.at_seconds for step in plan.steps for a in step.restored}
    bound = upper_bound(grid, incident, frozenset(out_nodes), back_at)
    repair_only = sum(back_at.values()) / 60
    return Outcome(
        faults=len(lines),
        customers_out=len(back_at),
        restored=len(switched.keys() & back_at.keys()),
        refeedable=bound.refeedable,
        cmi_repair_only=repair_only,
        cmi_with_switching=sum(min(t, switched.get(a, t)) for a, t in back_at.items()) / 60,
        cmi_upper_bound=repair_only - bound.saved_minutes,
        cmi_plan_at_once=sum(0.0 if a in switched else t for a, t in back_at.items()) / 60,
        solve_s=solve_s,
    )


def measure(
    grid: Grid, *, single: int, multiple: int, progress: Progress, seed: int = 0
) -> dict[str, Any]:
    """The figures of one grid (see the module's docstring)."""
    rng = random.Random(f"{grid.name}/{seed}")
    lines = mv_lines(grid.model)
    scenarios = [[line] for line in rng.sample(lines, min(single, len(lines)))]
    scenarios += [rng.sample(lines, rng.randint(2, 3)) for _ in range(multiple)]
    travel = GreatCircleTravel()
    grid.topology.sums_below(grid.data.loads)  # the load pass a running service keeps
    outcomes = []
    stage = f"restore: {grid.name}"
    for i, faulted in enumerate(scenarios):
        progress(stage, i, len(scenarios))
        outcomes.append(scenario(grid, faulted, travel))
    progress(stage, len(scenarios), len(scenarios))
    repair_only = sum(o.cmi_repair_only for o in outcomes)
    with_switching = sum(o.cmi_with_switching for o in outcomes)
    bound = sum(o.cmi_upper_bound for o in outcomes)
    solve = [o.solve_s for o in outcomes]
    return {
        "grid": grid.name,
        "faults": sum(o.faults for o in outcomes),
        "scenarios": len(outcomes),
        "customers_out": sum(o.customers_out for o in outcomes),
        "restored_by_switching": sum(o.restored for o in outcomes),
        "refeedable": sum(o.refeedable for o in outcomes),
        "cmi_repair_only": round(repair_only),
        "cmi_with_switching": round(with_switching),
        "cmi_upper_bound": round(bound),
        "cmi_plan_at_once": round(sum(o.cmi_plan_at_once for o in outcomes)),
        "reduction": round(1 - with_switching / repair_only, 3) if repair_only else 0.0,
        "of_upper_bound": (
            round((repair_only - with_switching) / (repair_only - bound), 3)
            if repair_only > bound
            else 1.0
        ),
        "solve_p50_s": round(percentile(solve, 0.5), 3),
        "solve_p99_s": round(percentile(solve, 0.99), 3),
        "solve_max_s": round(max(solve), 3),
        "remote_devices": len(grid.data.remote),
        "ties": sum(
            1
            for d in grid.model.devices
            if d.normal_open and d.kind in SWITCHING_KINDS and (d.voltage_kv or 0) > 1
        ),
    }


def _load_grids(quick: bool, progress: Progress) -> list[Grid]:
    codes = GRIDS[:1] if quick else GRIDS
    try:
        grids = []
        for i, code in enumerate(codes):
            progress("restore: import grids", i, len(codes))
            grids.append(Grid.from_model(code, import_simbench(code)))
        progress("restore: import grids", len(codes), len(codes))
        return grids
    except SimbenchUnavailable:
        sample = get_settings().sample_grid
        return [Grid.from_model(sample.name, read_grid(sample))]


def run(admin_url: str, *, quick: bool, progress: Progress) -> dict[str, Any]:
    """`admin_url` is unused: this benchmark needs no database."""
    del admin_url
    single, multiple = (QUICK_SINGLE, QUICK_MULTIPLE) if quick else (SINGLE, MULTIPLE)
    table = [
        measure(grid, single=single, multiple=multiple, progress=progress)
        for grid in _load_grids(quick, progress)
    ]
    return {**table[0], "table": table}
