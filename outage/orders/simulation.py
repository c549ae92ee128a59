"""What an order would do to the network, step by step: a pure function of the topology.

Each step is applied to the topology the one before left (`Topology.switched`), so the
figures follow the order as written. Opening a supplied device takes supply from what it
dominates (`downstream`); closing a device with supply on one side only gives supply to
what it then dominates; closing one with supply on both sides makes a parallel path
between the two (a loop), refused unless the order allows loops. A verify step that
expects the device in the other state than the steps before leave it in is refused too.
An opening or closing of a device already so changes nothing. Nothing here reads the
database: the caller hands in the topology, the critical customers and the hazards.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from grid_topology.topology import Topology
from outage.orders.enums import OPERATING, StepAction


@dataclass(frozen=True)
class PlannedStep:
    position: int
    action: StepAction
    asset_ref: str
    expect_open: bool | None = None
    """A verify step: the state it expects the device in."""


@dataclass(frozen=True)
class StepEffect:
    position: int
    action: StepAction
    asset_ref: str
    changes: bool
    """False for a step that leaves the device as it is (verify, tag, or already so)."""
    losing: int
    """Customers (accounts) who lose supply at this step."""
    regaining: int
    critical: tuple[str, ...]
    """Critical customers among those losing or regaining supply."""
    hazards: tuple[int, ...]
    """Active hazard incidents in the area losing or gaining supply."""
    loop: bool
    """Closes a parallel path between two supplied parts of the network."""
    expect_open: bool | None = None
    unexpected: bool = False
    """A verify step that would find the device in the other state than it expects."""


@dataclass(frozen=True)
class Simulation:
    steps: tuple[StepEffect, ...]
    interrupted: int
    """Customers who lose supply at some step, whether or not a later step restores them."""
    restored: int
    """Customers who regain supply at some step."""
    without_supply_after: int
    """Customers supplied before the order and not after it."""
    supplied_after: int
    """Customers without supply before the order and supplied after it."""
    critical: tuple[str, ...]
    hazards: tuple[int, ...]
    loops: tuple[int, ...]
    """Positions of the steps that close a loop."""
    refusals: tuple[str, ...] = field(default=())
    """Why the order may not go ahead as it stands; empty: it may."""
    losing_accounts: frozenset[str] = field(default=frozenset(), repr=False)
    """Who loses supply at some step (for planned-outage notices)."""

    def figures(self) -> dict[str, object]:
        """The figures as stored with the order and shown to the dispatcher."""
        return {
            "ok": not self.refusals,
            "refusals": list(self.refusals),
            "interrupted": self.interrupted,
            "restored": self.restored,
            "without_supply_after": self.without_supply_after,
            "supplied_after": self.supplied_after,
            "critical": list(self.critical),
            "hazards": list(self.hazards),
            "loops": list(self.loops),
            "steps": [
                {
                    "position": s.position,
                    "action": s.action.value,
                    "asset_ref": s.asset_ref,
                    "changes": s.changes,
                    "losing": s.losing,
                    "regaining": s.regaining,
                    "critical": list(s.critical),
                    "hazards": list(s.hazards),
                    "loop": s.loop,
                    "unexpected": s.unexpected,
                }
                for s in self.steps
            ],
        }


def state_name(is_open: bool) -> str:
    return "open" if is_open else "closed"


def is_loop(topology: Topology, asset_ref: str) -> bool:
    """Closing this open device would join two parts that both have supply."""
    link = topology.network.links[asset_ref]
    return (
        link.is_open
        and topology.is_energized(link.from_node)
        and topology.is_energized(link.to_node)
    )


def simulate(
    topology: Topology,
    steps: Sequence[PlannedStep],
    *,
    allow_loops: bool,
    critical: frozenset[str] = frozenset(),
    hazards: Mapping[int, frozenset[str]] | None = None,
) -> Simulation:
    """Apply the steps in turn and report what each does, and all of them together.

    `critical`: the accounts of critical customers. `hazards`: active hazard incidents by
    id, each with the nodes where it is.
    """
    hazard_sites = hazards or {}
    effects: list[StepEffect] = []
    off: set[str] = set()
    on: set[str] = set()
    interrupted: set[str] = set()
    restored: set[str] = set()
    for step in steps:
        nodes: frozenset[str] = frozenset()
        lost: frozenset[str] = frozenset()
        gained: frozenset[str] = frozenset()
        loop = False
        changes = False
        link = topology.network.links.get(step.asset_ref)
        is_open_now = link is not None and link.is_open
        unexpected = step.expect_open is not None and step.expect_open != is_open_now
        if step.action in OPERATING:
            is_open = step.action is StepAction.OPEN
            changes = is_open_now != is_open
            if changes and is_open:
                trace = topology.downstream(step.asset_ref)
                nodes, lost = trace.nodes, trace.accounts
                topology = topology.switched({step.asset_ref: True})
            elif changes:
                loop = is_loop(topology, step.asset_ref)
                topology = topology.switched({step.asset_ref: False})
                if not loop:
                    trace = topology.downstream(step.asset_ref)
                    nodes, gained = trace.nodes, trace.accounts
        # Net figures: who was supplied before the order and is not now, and the reverse.
        off |= lost - on
        on -= lost
        on |= gained - off
        off -= gained
        interrupted |= lost
        restored |= gained
        effects.append(
            StepEffect(
                position=step.position,
                action=step.action,
                asset_ref=step.asset_ref,
                changes=changes,
                losing=len(lost),
                regaining=len(gained),
                critical=tuple(sorted((lost | gained) & critical)),
                hazards=tuple(sorted(i for i, at in hazard_sites.items() if at & nodes)),
                loop=loop,
                expect_open=step.expect_open,
                unexpected=unexpected,
            )
        )
    loops = tuple(e.position for e in effects if e.loop)
    refusals = tuple(
        f"step {e.position} closes {e.asset_ref} between two energised parts of the network "
        "(a loop); the order must allow loops"
        for e in effects
        if e.loop and not allow_loops
    ) + tuple(
        f"step {e.position} verifies {e.asset_ref} is {state_name(e.expect_open)}, but it "
        f"would be {state_name(not e.expect_open)}"
        for e in effects
        if e.unexpected and e.expect_open is not None
    )
    return Simulation(
        steps=tuple(effects),
        interrupted=len(interrupted),
        restored=len(restored),
        without_supply_after=len(off),
        supplied_after=len(on),
        critical=tuple(sorted(set().union(*(e.critical for e in effects)))),
        hazards=tuple(sorted(set().union(*(e.hazards for e in effects)))),
        loops=loops,
        refusals=refusals,
        losing_accounts=frozenset(interrupted),
    )
