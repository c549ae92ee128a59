"""The prediction engines' regions: groups of substations, each worked by one engine.

A region is what the rest of the service already calls one, a substation's area, and
`engine_regions` groups them: it names each numbered region's substations, and region 0
holds every substation not named and whatever is on no feeder and no substation (a
report placed nowhere on the network). Everything else is in the region of its home
substation: a device in its feeder's (its own substation's when it is on no feeder), a
premise in its feeder's, a report in its customer's premise's (else its own feeder's), an
incident in its device's (else its premise's, else its own feeder's), where they are now.

The import finds a device's feeder by tracing from the feeder heads through closed devices,
so a device open in the imported model (every normally-open point) and whatever lies dead
behind it has no feeder, and a field device no substation. Such a device's home is read
here, from its sides: the region of the devices beside it, found through other such devices
when they have none (a section dead at import takes the region of the open point it hangs
from); the lowest when its sides are in two regions. One whose sides lead to no home at all
is region 0's. A premise on a section dead at import has no feeder either, and is region
0's: its customers' evidence is read by region 0's engine until an import finds their feeder.

Regions meet only at normally-open points: a normally-open device whose two sides are in
different regions is a tie. While an operator has one closed, a source of one region feeds
customers of the other, and the regions it joins are one electrical network, worked by one
engine (`joined`).
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    and_,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from outage.grid.models import Customer, Device, Feeder, Premise, Substation, SubstationMove

IdColumn = SQLColumnExpression[int | None]
"""A column (or expression) of substation or feeder ids."""

UNPLACED = 0
"""The substation key of a row with no home substation (a report placed nowhere, a premise
on no feeder): no substation has id 0, and the key must never be NULL, which a table
distributed by it (Citus) cannot route."""


@dataclass(frozen=True)
class Scope:
    """What one engine works: its regions' substations and their feeders, and with region 0
    whatever has no home substation."""

    substations: frozenset[int]
    feeders: frozenset[int]
    homeless: bool
    ties: frozenset[str] = frozenset()
    """The ties of its regions, wherever their home: on either side, each is how power
    may come in or go out."""
    own: frozenset[int] = frozenset()
    """Devices on no feeder and no substation whose sides make them its regions'."""
    placed: frozenset[int] = frozenset()
    """With region 0: every device on no feeder and no substation whose sides give it a
    home; region 0 holds the others of those, whose sides lead to none."""
    moved: frozenset[int] = frozenset()
    """The substation keys imports moved premises or customers from into its substations
    (or onto none, with region 0): their earlier rows are under those keys."""

    def holds_feeder(self, feeder_id: IdColumn) -> ColumnElement[bool]:
        """A premise's, a report's: in by its feeder."""
        return or_(feeder_id.in_(sorted(self.feeders)), feeder_id.is_(None) & self._homeless())

    def holds_device(
        self,
        device_id: IdColumn,
        feeder_id: IdColumn,
        substation_id: IdColumn,
    ) -> ColumnElement[bool]:
        """A device's: in by its feeder, else by its substation, else by its sides."""
        homeless = substation_id.is_(None) & self._homeless()
        if self.placed:
            homeless = homeless & device_id.not_in(sorted(self.placed))
        by_substation = or_(substation_id.in_(sorted(self.substations)), homeless)
        return or_(
            feeder_id.in_(sorted(self.feeders)),
            and_(feeder_id.is_(None), by_substation),
            device_id.in_(sorted(self.own)),
        )

    def _homeless(self) -> ColumnElement[bool]:
        return true() if self.homeless else false()

    @property
    def keys(self) -> list[int]:
        """The substation keys of the rows its evidence may be in: its substations', and the
        unplaced, since a report an agent placed later, or one of a premise on no feeder,
        keeps key 0 (a key never changes), and those its premises were moved from."""
        return sorted({UNPLACED, *self.substations, *self.moved})


@dataclass(frozen=True)
class Tie:
    """A normally-open device between regions, and the regions on its two sides."""

    asset_ref: str
    regions: frozenset[int]


@dataclass(frozen=True)
class Regions:
    """The regions of the network as configured, and the ties between them."""

    of_substation: Mapping[int, int]
    """Substation id -> its region."""
    substation_of_feeder: Mapping[int, int]
    ties: tuple[Tie, ...]
    homes: Mapping[int, int] = field(default_factory=dict)
    """Device id -> the region of a device on no feeder and no substation, from its sides."""
    moves: frozenset[tuple[int, int]] = frozenset()
    """(from, to) substation keys an import moved premises or customers between."""

    @property
    def numbers(self) -> tuple[int, ...]:
        """Every region, 0 first: an engine without a region of its own takes the first free."""
        return tuple(sorted({0, *self.of_substation.values()}))

    def scope(self, regions: Collection[int]) -> Scope | None:
        """What an engine working these regions loads and reads; None: everything (there
        is one region)."""
        if self.numbers == (0,):
            return None
        substations = frozenset(s for s, r in self.of_substation.items() if r in regions)
        feeders = frozenset(f for f, s in self.substation_of_feeder.items() if s in substations)
        ties = frozenset(t.asset_ref for t in self.ties if not t.regions.isdisjoint(regions))
        own = frozenset(device for device, region in self.homes.items() if region in regions)
        placed = frozenset(self.homes) if 0 in regions else frozenset()
        moved = self._moved_into(substations | ({UNPLACED} if 0 in regions else set()))
        return Scope(substations, feeders, 0 in regions, ties, own, placed, moved)

    def _moved_into(self, keys: frozenset[int]) -> frozenset[int]:
        """The keys whose premises reached these through one import or several."""
        found = set(keys)
        grown = True
        while grown:
            before = len(found)
            found |= {source for source, target in self.moves if target in found}
            grown = len(found) > before
        return frozenset(found - keys)

    def joined(self, region: int, closed: Collection[str]) -> frozenset[int]:
        """The regions the closed ties join to this one, itself included."""
        group = {region}
        grown = True
        while grown:
            grown = False
            for tie in self.ties:
                if tie.asset_ref in closed and tie.regions & group and not tie.regions <= group:
                    group |= tie.regions
                    grown = True
        return frozenset(group)


def substations_of_premises(session: Session, premise_ids: Collection[int]) -> dict[int, int]:
    """Premise id -> the substation key of a row written for it now: its feeder's substation,
    else `UNPLACED`."""
    if not premise_ids:
        return {}
    rows = session.execute(
        select(Premise.id, func.coalesce(Feeder.substation_id, UNPLACED))
        .outerjoin(Feeder, Feeder.id == Premise.feeder_id)
        .where(Premise.id.in_(sorted(premise_ids)))
    )
    return {premise_id: substation_id for premise_id, substation_id in rows}


def substations_of_customers(session: Session, customer_ids: Collection[int]) -> dict[int, int]:
    """Customer id -> the substation key of a row written for it now (its premise's)."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(Customer.id, func.coalesce(Feeder.substation_id, UNPLACED))
        .join(Premise, Premise.id == Customer.premise_id)
        .outerjoin(Feeder, Feeder.id == Premise.feeder_id)
        .where(Customer.id.in_(sorted(customer_ids)))
    )
    return {customer_id: substation_id for customer_id, substation_id in rows}


def unknown_substations(session: Session, configured: Mapping[int, Sequence[str]]) -> list[str]:
    """The substations `engine_regions` names that the network does not have."""
    named = {name for names in configured.values() for name in names}
    known = set(session.scalars(select(Substation.name).where(Substation.name.in_(named))))
    return sorted(named - known)


def read_regions(session: Session, configured: Mapping[int, Sequence[str]]) -> Regions:
    """The regions as `engine_regions` configures them on the network stored now."""
    region_of_name = {name: region for region, names in configured.items() for name in names}
    of_substation = {
        substation_id: region_of_name.get(name, 0)
        for substation_id, name in session.execute(select(Substation.id, Substation.name))
    }
    substation_of_feeder = {
        feeder_id: substation_id
        for feeder_id, substation_id in session.execute(select(Feeder.id, Feeder.substation_id))
    }
    moves = frozenset(
        session.execute(select(SubstationMove.from_substation, SubstationMove.to_substation))
        .tuples()
        .all()
    )
    regions = Regions(of_substation, substation_of_feeder, (), moves=moves)
    if regions.numbers == (0,):
        return regions
    return _sided(session, regions)


@dataclass(frozen=True)
class _Unhomed:
    """A normally-open device, or one on no feeder and no substation: its home, or the
    regions it ties, come from its sides."""

    id: int
    asset_ref: str
    ends: tuple[int, int]
    normal_open: bool
    homeless: bool


def _sided(session: Session, regions: Regions) -> Regions:
    """The regions with the homes of devices on no feeder and no substation and the ties."""
    unhomed = [
        _Unhomed(id_, asset_ref, (a, b), normal_open, feeder is None and substation is None)
        for id_, asset_ref, a, b, normal_open, feeder, substation in session.execute(
            select(
                Device.id,
                Device.asset_ref,
                Device.from_node_id,
                Device.to_node_id,
                Device.normal_open,
                Device.feeder_id,
                Device.substation_id,
            ).where(
                Device.retired_in.is_(None),
                Device.normal_open | (Device.feeder_id.is_(None) & Device.substation_id.is_(None)),
            )
        )
    ]
    at = _node_regions(session, regions, unhomed)
    homes: dict[int, int] = {}
    ties: list[Tie] = []
    for device in unhomed:
        sides = at.get(device.ends[0], frozenset()) | at.get(device.ends[1], frozenset())
        if device.homeless and sides:
            homes[device.id] = min(sides)
        if device.normal_open and len(sides) > 1:
            ties.append(Tie(device.asset_ref, sides))
    ties.sort(key=lambda tie: tie.asset_ref)
    return Regions(
        regions.of_substation, regions.substation_of_feeder, tuple(ties), homes, regions.moves
    )


def _node_regions(
    session: Session, regions: Regions, unhomed: Sequence[_Unhomed]
) -> dict[int, frozenset[int]]:
    """Node id -> the regions beside it: of the devices with a home that end there, and,
    for a node only these devices reach, of the nearest such node through them: first
    through normally-closed ones alone, so a dead section next to a tie takes the region of
    the device it was cut off by, not of the tie's far side."""
    skipped = [device.id for device in unhomed]
    nodes = sorted({end for device in unhomed for end in device.ends})
    home = func.coalesce(Feeder.substation_id, Device.substation_id)
    at: dict[int, set[int]] = {}
    for end in (Device.from_node_id, Device.to_node_id):
        rows = session.execute(
            select(end, home)
            .outerjoin(Feeder, Feeder.id == Device.feeder_id)
            .where(
                end.in_(nodes),
                Device.retired_in.is_(None),
                Device.id.not_in(skipped),
                home.is_not(None),
            )
            .distinct()
        )
        for node, substation in rows:
            at.setdefault(node, set()).add(regions.of_substation.get(substation, 0))
    found = {node: frozenset(found) for node, found in at.items()}
    closed = [device for device in unhomed if not device.normal_open]
    _spread(found, closed)  # a section dead at import, from the device opened into it
    _spread(found, unhomed)  # what only a normally-open point reaches, from its far side
    return found


def _spread(found: dict[int, frozenset[int]], through: Sequence[_Unhomed]) -> None:
    """Give nodes without regions those of the nearest nodes with some, through these
    devices, level by level."""
    beside: dict[int, list[int]] = {}
    for device in through:
        a, b = device.ends
        beside.setdefault(a, []).append(b)
        beside.setdefault(b, []).append(a)
    frontier = list(found)
    while frontier:
        reached: dict[int, set[int]] = {}
        for node in frontier:
            for other in beside.get(node, ()):
                if other not in found:
                    reached.setdefault(other, set()).update(found[node])
        found.update({node: frozenset(regions_) for node, regions_ in reached.items()})
        frontier = list(reached)


def closed_ties(session: Session, ties: Iterable[Tie]) -> frozenset[str]:
    """The ties an operator has closed now."""
    refs = sorted(tie.asset_ref for tie in ties)
    if not refs:
        return frozenset()
    return frozenset(
        session.scalars(
            select(Device.asset_ref).where(Device.asset_ref.in_(refs), Device.is_open.is_(False))
        )
    )
