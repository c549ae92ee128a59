"""What an incident asks of a crew: the skills it needs, by device kind and hazard.

Pure: names in, skills out. Device kinds are those of `grid_topology.model.DeviceKind`
plus `dispatch.etr.SERVICE` (a single service drop or meter); hazards are the values of
`outage.intake.enums.Hazard`.
"""

from collections.abc import Mapping
from types import MappingProxyType

from dispatch.etr import SERVICE
from dispatch.model import Skill

S = Skill

DEVICE_SKILLS: Mapping[str, frozenset[Skill]] = MappingProxyType(
    {
        "breaker": frozenset({S.SUBSTATION}),
        "recloser": frozenset({S.OVERHEAD_LINE}),
        "fuse": frozenset({S.OVERHEAD_LINE}),
        "switch": frozenset({S.OVERHEAD_LINE}),
        "disconnector": frozenset({S.OVERHEAD_LINE}),
        "transformer": frozenset({S.OVERHEAD_LINE}),
        "line": frozenset({S.OVERHEAD_LINE}),
        SERVICE: frozenset({S.SERVICE_METER}),
    }
)
"""The network model says nothing of cables, so lines and their devices are overhead work."""

HAZARD_SKILLS: Mapping[str, frozenset[Skill]] = MappingProxyType(
    {
        "wires_down": frozenset({S.OVERHEAD_LINE}),
        "fire": frozenset({S.OVERHEAD_LINE}),
        "tree_on_line": frozenset({S.OVERHEAD_LINE, S.VEGETATION}),
        "flooded_equipment": frozenset({S.UNDERGROUND}),
    }
)
"""Making the place safe comes first, so a hazard's skills decide who goes."""


def skills_for(device_kind: str | None, hazard: str | None) -> frozenset[Skill]:
    """The skills a crew needs for the job: the hazard's when there is one, else the device's
    (none when neither is known: any crew can go and look)."""
    if hazard is not None:
        return HAZARD_SKILLS.get(hazard, frozenset())
    if device_kind is not None:
        return DEVICE_SKILLS.get(device_kind, frozenset())
    return frozenset()
