"""Declaring a storm, moving it through its phases, and what it tells customers.

A region is a substation's area; an incident is in the region of its feeder's substation.
Storms sit below incidents: an incident's customers are told what its region's phase
allows (`outage/incidents/progress.py`), and the planner above both writes the times.
A region without a phase of its own follows the storm's. Every change is audited in
`storm_events`. Every function takes the session and plain values and never commits.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outage.grid.models import Customer, Feeder, Substation
from outage.moments import CLOCK_SKEW
from outage.storms.enums import EtrScope, StormAction, StormPhase
from outage.storms.errors import InvalidStorm, StormConflict, StormNotFound
from outage.storms.models import Storm, StormEvent, StormRegion
from outage.storms.proposal import Thresholds, propose
from outage.storms.schemas import ProposalOut, RegionOut, StormIn, StormOut, StormPatch

Range = tuple[datetime, datetime]
"""A restoration time: expected, latest."""


@dataclass(frozen=True)
class RegionState:
    phase: StormPhase | None
    """None: the storm's."""
    etr: Range | None = None


@dataclass(frozen=True)
class StormState:
    """The storm on, as the planner and the pages need it."""

    id: int
    level: int
    phase: StormPhase
    etr: Range | None = None
    regions: Mapping[int, RegionState] = field(default_factory=dict)
    """By substation id: the regions with a phase of their own, or a time of their own
    (their phase None: the storm's)."""

    def phase_of(self, substation_id: int | None) -> StormPhase:
        region = self.regions.get(substation_id) if substation_id is not None else None
        return region.phase if region is not None and region.phase is not None else self.phase

    def etr_of(self, substation_id: int | None) -> Range | None:
        """The storm's or the region's time for a region in the global or regional phase."""
        phase = self.phase_of(substation_id)
        if phase is StormPhase.GLOBAL:
            return self.etr
        if phase is StormPhase.REGIONAL and substation_id is not None:
            region = self.regions.get(substation_id)
            return region.etr if region is not None else None
        return None


@dataclass(frozen=True)
class ToldTime:
    """The time an outage's customers are told, or that damage is being assessed."""

    etr: datetime | None = None
    earliest: datetime | None = None
    latest: datetime | None = None
    scope: EtrScope = EtrScope.OUTAGE
    assessing_damage: bool = False


_SCOPES = {StormPhase.GLOBAL: EtrScope.STORM, StormPhase.REGIONAL: EtrScope.AREA}


def told_time(storm: StormState | None, region: int | None, own: ToldTime) -> ToldTime:
    """What the storm's phase in the outage's region lets its customers be told: nothing
    while the damage is assessed, the storm's or the region's time, or the outage's own
    (`own`) outside a storm and in the job-level phase."""
    if storm is None:
        return own
    phase = storm.phase_of(region)
    if phase is StormPhase.JOB:
        return own
    times = storm.etr_of(region)
    if times is None:
        return ToldTime(assessing_damage=True)
    return ToldTime(etr=times[0], latest=times[1], scope=_SCOPES[phase])


def regions_of(session: Session, feeder_ids: Iterable[int | None]) -> dict[int, int]:
    """The region (substation id) of each feeder."""
    ids = sorted({f for f in feeder_ids if f is not None})
    if not ids:
        return {}
    return dict(
        session.execute(select(Feeder.id, Feeder.substation_id).where(Feeder.id.in_(ids)))
        .tuples()
        .all()
    )


def region_of(session: Session, feeder_id: int | None) -> int | None:
    return regions_of(session, [feeder_id]).get(feeder_id) if feeder_id is not None else None


def _range(etr: datetime | None, latest: datetime | None) -> Range | None:
    return (etr, latest) if etr is not None and latest is not None else None


def current(session: Session, *, lock: bool = False) -> StormState | None:
    """The storm on, if any. `lock`: as it is now, its row locked until the transaction
    ends, for a writer that must not undo a change made meanwhile (the planner)."""
    query = select(Storm).where(Storm.ended_at.is_(None))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    storm = session.scalar(query)
    if storm is None:
        return None
    regions = {
        r.substation_id: RegionState(r.phase, _range(r.etr, r.etr_latest))
        for r in session.scalars(select(StormRegion).where(StormRegion.storm_id == storm.id))
    }
    return StormState(
        storm.id, storm.level, storm.phase, _range(storm.etr, storm.etr_latest), regions
    )


def _audit(
    session: Session,
    storm: Storm,
    action: StormAction,
    *,
    actor: str,
    at: datetime,
    details: dict[str, Any],
) -> None:
    session.add(StormEvent(storm_id=storm.id, at=at, actor=actor, action=action, details=details))


def declare(session: Session, storm: StormIn, *, actor: str, now: datetime) -> int:
    """A new storm; refused while another is on."""
    declared_at = storm.declared_at or now
    if declared_at > now + CLOCK_SKEW:
        raise InvalidStorm(f"declared_at {declared_at.isoformat()} is in the future")
    if session.scalar(select(Storm.id).where(Storm.ended_at.is_(None))) is not None:
        raise StormConflict("a storm is on already: end it, or change its level")
    row = Storm(
        name=storm.name,
        level=storm.level,
        phase=storm.phase,
        declared_at=declared_at,
        declared_by=actor,
    )
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise StormConflict("a storm is on already: end it, or change its level") from exc
    _audit(
        session,
        row,
        StormAction.DECLARED,
        actor=actor,
        at=declared_at,
        details={"name": storm.name, "level": storm.level, "phase": storm.phase.value},
    )
    return row.id


def _load(session: Session, storm_id: int) -> Storm:
    storm = session.get(Storm, storm_id)
    if storm is None:
        raise StormNotFound(f"no storm {storm_id}")
    return storm


def _substations(session: Session, names: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(names))
    found = dict(
        session.execute(select(Substation.name, Substation.id).where(Substation.name.in_(wanted)))
        .tuples()
        .all()
    )
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise InvalidStorm(f"no region (substation) named {', '.join(unknown[:5])}")
    return found


def change(
    session: Session, storm_id: int, patch: StormPatch, *, actor: str, now: datetime
) -> None:
    """A new level, a phase for some regions or all, or the end."""
    if patch.regions is not None and patch.phase is None:
        raise InvalidStorm("regions name where a phase changes: give the phase")
    if patch.level is None and patch.phase is None and patch.ended_at is None:
        raise InvalidStorm("nothing to change: give a level, a phase or ended_at")
    storm = _load(session, storm_id)
    if storm.ended_at is not None:
        raise StormConflict(f"storm {storm_id} has ended")
    moved = session.scalar(
        update(Storm)
        .where(Storm.id == storm_id, Storm.version == patch.expected_version)
        .values(version=Storm.version + 1)
        .returning(Storm.id)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        raise StormConflict(f"storm {storm_id} changed meanwhile: read it again")
    session.refresh(storm)
    if patch.level is not None and patch.level != storm.level:
        _audit(
            session,
            storm,
            StormAction.LEVEL_SET,
            actor=actor,
            at=now,
            details={"level": patch.level, "previous": storm.level},
        )
        storm.level = patch.level
    if patch.phase is not None:
        _set_phase(session, storm, patch.phase, patch.regions, actor=actor, now=now)
    if patch.ended_at is not None:
        if patch.ended_at > now + CLOCK_SKEW or patch.ended_at < storm.declared_at:
            raise InvalidStorm("ended_at must lie between the declaration and now")
        storm.ended_at = patch.ended_at
        _audit(session, storm, StormAction.ENDED, actor=actor, at=patch.ended_at, details={})
    session.flush()


def _set_phase(
    session: Session,
    storm: Storm,
    phase: StormPhase,
    regions: list[str] | None,
    *,
    actor: str,
    now: datetime,
) -> None:
    rows = {
        r.substation_id: r
        for r in session.scalars(select(StormRegion).where(StormRegion.storm_id == storm.id))
    }
    if regions is None:
        for own in rows.values():
            own.phase = None
        storm.phase = phase
    else:
        for substation_id in _substations(session, regions).values():
            row = rows.get(substation_id)
            if row is None:
                session.add(
                    StormRegion(storm_id=storm.id, substation_id=substation_id, phase=phase)
                )
            else:
                row.phase = phase
    _audit(
        session,
        storm,
        StormAction.PHASE_SET,
        actor=actor,
        at=now,
        details={"phase": phase.value, "regions": sorted(regions) if regions else None},
    )


def set_times(
    session: Session,
    storm_id: int,
    *,
    etr: Range | None,
    regions: Mapping[int, Range],
    actor: str,
    now: datetime,
) -> None:
    """The storm's and its regions' restoration times, as the planner estimates them;
    audited when they change. The caller holds the storm's row (`current(lock=True)`)."""
    storm = _load(session, storm_id)
    changed: dict[str, Any] = {}
    if _range(storm.etr, storm.etr_latest) != etr:
        storm.etr, storm.etr_latest = etr if etr is not None else (None, None)
        changed["storm"] = [t.isoformat() for t in etr] if etr else None
    rows = {
        r.substation_id: r
        for r in session.scalars(select(StormRegion).where(StormRegion.storm_id == storm.id))
    }
    for substation_id, times in regions.items():
        row = rows.get(substation_id) or StormRegion(
            storm_id=storm.id, substation_id=substation_id, phase=None
        )
        if substation_id not in rows:
            session.add(row)
        if _range(row.etr, row.etr_latest) != times:
            row.etr, row.etr_latest = times
            changed[str(substation_id)] = [t.isoformat() for t in times]
    if changed:
        _audit(session, storm, StormAction.ETR_SET, actor=actor, at=now, details=changed)
    session.flush()


def _regions(
    session: Session, storm_ids: Sequence[int]
) -> dict[int, list[tuple[StormRegion, str]]]:
    """Each storm's regions with their substations' names, in name order: one query."""
    found: dict[int, list[tuple[StormRegion, str]]] = {i: [] for i in storm_ids}
    for region, name in session.execute(
        select(StormRegion, Substation.name)
        .join(Substation, Substation.id == StormRegion.substation_id)
        .where(StormRegion.storm_id.in_(storm_ids))
        .order_by(Substation.name)
    ).tuples():
        found[region.storm_id].append((region, name))
    return found


def _out(storm: Storm, regions: Sequence[tuple[StormRegion, str]]) -> StormOut:
    return StormOut(
        id=storm.id,
        name=storm.name,
        level=storm.level,
        phase=storm.phase,
        declared_at=storm.declared_at,
        declared_by=storm.declared_by,
        ended_at=storm.ended_at,
        etr=storm.etr,
        etr_latest=storm.etr_latest,
        regions=[
            RegionOut(region=name, phase=r.phase or storm.phase, etr=r.etr, etr_latest=r.etr_latest)
            for r, name in regions
        ],
        version=storm.version,
    )


def get_storm(session: Session, storm_id: int) -> StormOut:
    storm = _load(session, storm_id)
    return _out(storm, _regions(session, [storm.id])[storm.id])


def list_storms(session: Session, *, limit: int = 50) -> list[StormOut]:
    """Newest first."""
    storms = list(session.scalars(select(Storm).order_by(Storm.declared_at.desc()).limit(limit)))
    regions = _regions(session, [s.id for s in storms])
    return [_out(s, regions[s.id]) for s in storms]


def proposal(
    session: Session, *, incidents_last_hour: int, customers_out: int, thresholds: Thresholds
) -> ProposalOut:
    """The level the last hour's outages and the customers out now call for (counted by
    the incidents' `outage_load`)."""
    customers = session.scalar(select(func.count()).select_from(Customer)) or 0
    found = propose(incidents_last_hour, customers_out, customers, thresholds)
    storm_on = session.scalar(select(Storm.id).where(Storm.ended_at.is_(None))) is not None
    return ProposalOut(
        level=found.level,
        incidents_last_hour=found.incidents_last_hour,
        customers_out=found.customers_out,
        customers=found.customers,
        share_out=round(found.share_out, 4),
        storm_on=storm_on,
    )
