"""The prediction engines' regions: groups of substations, each worked by one engine.

A region is what the rest of the service already calls one, a substation's area, and
`engine_regions` groups them: it names each numbered region's substations, and region 0
holds every substation not named and whatever is on no feeder and no substation (a
report placed nowhere on the network). Everything else is in the region of its home
substation: a device in its feeder's (its own substation's when it is on no feeder), a
premise and a report in their feeder's, an incident in its feeder's or its device's.

Regions meet only at normally-open points: a normally-open device whose two sides are in
different regions is a tie. While an operator has one closed, a source of one region feeds
customers of the other, and the regions it joins are one electrical network, worked by one
engine (`joined`).
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, aliased

from outage.grid.models import Device, Feeder, Substation

IdColumn = SQLColumnExpression[int | None]
"""A column (or expression) of substation or feeder ids."""


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

    def holds_feeder(self, feeder_id: IdColumn) -> ColumnElement[bool]:
        """A premise's, a report's: in by its feeder."""
        return or_(feeder_id.in_(sorted(self.feeders)), feeder_id.is_(None) & self._homeless())

    def holds_device(
        self,
        feeder_id: IdColumn,
        substation_id: IdColumn,
    ) -> ColumnElement[bool]:
        """A device's, an incident's: in by its feeder, else by its substation."""
        by_substation = or_(
            substation_id.in_(sorted(self.substations)),
            substation_id.is_(None) & self._homeless(),
        )
        return or_(feeder_id.in_(sorted(self.feeders)), and_(feeder_id.is_(None), by_substation))

    def _homeless(self) -> ColumnElement[bool]:
        return true() if self.homeless else false()


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
        return Scope(substations, feeders, homeless=0 in regions, ties=ties)

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
    regions = Regions(of_substation, substation_of_feeder, ())
    if regions.numbers == (0,):
        return regions
    return Regions(of_substation, substation_of_feeder, _ties(session, of_substation))


def _ties(session: Session, of_substation: Mapping[int, int]) -> tuple[Tie, ...]:
    """Normally-open devices and the regions of the devices on either side of them."""
    tie, other, feeder = aliased(Device), aliased(Device), aliased(Feeder)
    home = func.coalesce(feeder.substation_id, other.substation_id)
    by_region: dict[int, list[int]] = {}
    for substation_id, number in of_substation.items():
        by_region.setdefault(number, []).append(substation_id)
    region = case(
        *((home.in_(ids), literal(n)) for n, ids in by_region.items() if n),
        else_=literal(0),
    )
    ends = (tie.from_node_id, tie.to_node_id)
    rows = session.execute(
        select(tie.asset_ref, func.array_agg(region.distinct()))
        .join(
            other,
            and_(other.id != tie.id, or_(other.from_node_id.in_(ends), other.to_node_id.in_(ends))),
        )
        .outerjoin(feeder, feeder.id == other.feeder_id)
        .where(tie.normal_open, tie.retired_in.is_(None), other.retired_in.is_(None))
        .group_by(tie.asset_ref)
        .having(func.count(region.distinct()) > 1)
    )
    return tuple(Tie(asset_ref, frozenset(found)) for asset_ref, found in rows)


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
