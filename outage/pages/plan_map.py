"""Restoration plans drawn on the dispatcher's map: the devices each plan opens and closes,
the lines it brings back in the colour of the feeder that then feeds them, and the lines
of the incident's area it leaves without supply.

Each plan's steps are replayed on the very network the plans were computed on, so what
the dispatcher sees is what they order (the order is refused if that network changed).
"""

from collections.abc import Collection, Iterable

from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind
from grid_topology.topology import Topology
from maps.layers import Feature
from outage.grid.live import Views
from outage.orders.enums import StepAction
from outage.pages import map_sources
from outage.restoration.schemas import PlanOut, PlansOut

RESTORED = "plan_restored"
"""Lines a plan brings back, one feature per plan and feeder feeding them after it."""
LEFT_DEAD = "plan_dead"
"""Lines of the incident's area still without supply after a plan."""
STEP = "plan_step"
"""A device a plan opens or closes."""


def _lines(topology: Topology, refs: Iterable[str]) -> set[str]:
    links = topology.network.links
    return {ref for ref in refs if links[ref].kind is DeviceKind.LINE}


def _area(operated: Topology, opened: Iterable[str]) -> set[str]:
    """The lines the devices that opened on the fault cut off (the network as operated
    counts them closed)."""
    return {line for ref in opened for line in _lines(operated, operated.downstream(ref).devices)}


def _picked_up(
    before: Topology, after: Topology, plan: PlanOut, heads: Collection[str]
) -> dict[str, str | None]:
    """Each line without supply before that the plan feeds, with the feeder head feeding it
    after (None below no head): what every closing step brings back."""
    fed: dict[str, str | None] = {}
    for step in plan.steps:
        if step.action is not StepAction.CLOSE or not after.is_device_energized(step.asset_ref):
            continue
        path = (step.asset_ref, *after.upstream(step.asset_ref).devices)
        head = next((ref for ref in path if ref in heads), None)
        for line in _lines(after, after.downstream(step.asset_ref).devices):
            if not before.is_device_energized(line):
                fed.setdefault(line, head)
    return fed


def plan_features(session: Session, network: Views, plans: PlansOut) -> list[Feature]:
    """Every plan's features (property `rank`), on the network the plans were computed on."""
    heads = {head: index for index, (head, _, _) in enumerate(map_sources.feeders(session))}
    before = network.energized
    area = _area(network.operated, plans.operated)
    groups: dict[tuple[int, str, str | None], str] = {}
    members: list[tuple[str, str]] = []
    for plan in plans.plans:
        after = before.switched({s.asset_ref: s.action is StepAction.OPEN for s in plan.steps})
        drawn = [
            ((plan.rank, RESTORED, head), line)
            for line, head in _picked_up(before, after, plan, heads).items()
        ]
        drawn += [
            ((plan.rank, LEFT_DEAD, None), line)
            for line in area
            if not after.is_device_energized(line)
        ]
        for group, line in drawn:
            members.append((line, groups.setdefault(group, str(len(groups)))))
    geometries = map_sources.line_geometries(session, members)
    features: list[Feature] = [
        {
            "type": "Feature",
            "geometry": geometries[key],
            "properties": {
                "rank": rank,
                "kind": kind,
                "head": head,
                "index": heads.get(head) if head else None,
            },
        }
        for (rank, kind, head), key in groups.items()
        if key in geometries
    ]
    points = map_sources.device_points(session, {s.asset_ref for p in plans.plans for s in p.steps})
    features += [
        {
            "type": "Feature",
            "geometry": points[step.asset_ref],
            "properties": {
                "rank": plan.rank,
                "kind": STEP,
                "position": step.position,
                "asset_ref": step.asset_ref,
                "action": step.action.value,
                "remote": step.remote,
            },
        }
        for plan in plans.plans
        for step in plan.steps
        if step.asset_ref in points
    ]
    return features
