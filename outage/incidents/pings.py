"""What the meters asked about an incident answered, per transformer: how many are on, off,
silent, and still waiting for an answer, and why they were asked.

The dispatcher's map and list read this for every active incident on each poll, so it is
one query for all of them. A meter asked more than once for an incident counts once, by
its latest ping: a meter off when the incident was verified and on after the restoration
is on, and one asked again is pending.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from outage.grid.models import Device, Premise
from outage.intake.enums import PingReason, PingState
from outage.intake.models import MeterPing


@dataclass(frozen=True)
class PingCounts:
    """Meters by their latest ping's state."""

    on: int = 0
    off: int = 0
    silent: int = 0
    """No answer: the head-end's, or the wait for one ran out."""
    pending: int = 0

    def __add__(self, other: "PingCounts") -> "PingCounts":
        return PingCounts(
            on=self.on + other.on,
            off=self.off + other.off,
            silent=self.silent + other.silent,
            pending=self.pending + other.pending,
        )


@dataclass(frozen=True)
class TransformerPings:
    """The meters asked under one transformer."""

    transformer: str | None
    """The transformer's asset ref; None for premises the network hangs under none."""
    counts: PingCounts
    last_answer_at: datetime | None
    """The newest "on" or "off" answer; None while none came."""
    reasons: tuple[PingReason, ...]
    """Why they were asked, in `PingReason`'s order."""


@dataclass(frozen=True)
class IncidentPings:
    """An incident's pings, per transformer (by asset ref, the premises under none last)."""

    incident_id: int
    transformers: tuple[TransformerPings, ...]

    @property
    def counts(self) -> PingCounts:
        return sum((t.counts for t in self.transformers), PingCounts())

    @property
    def last_answer_at(self) -> datetime | None:
        return max((t.last_answer_at for t in self.transformers if t.last_answer_at), default=None)

    @property
    def reasons(self) -> tuple[PingReason, ...]:
        return _in_order({r for t in self.transformers for r in t.reasons})


def incident_pings(session: Session, incident_ids: Collection[int]) -> dict[int, IncidentPings]:
    """The pings of each of the incidents; one with none is left out."""
    if not incident_ids:
        return {}
    latest = (
        select(
            MeterPing.incident_id,
            MeterPing.premise_id,
            MeterPing.state,
            MeterPing.reason,
            MeterPing.answered_at,
        )
        .where(MeterPing.incident_id.in_(sorted(incident_ids)))
        .distinct(MeterPing.incident_id, MeterPing.meter_id)
        .order_by(
            MeterPing.incident_id,
            MeterPing.meter_id,
            MeterPing.asked_at.desc(),
            MeterPing.id.desc(),
        )
        .subquery()
    )

    def meters(state: PingState) -> ColumnElement[int]:
        return func.count().filter(latest.c.state == state)

    answered = latest.c.state.in_([PingState.ON, PingState.OFF])
    rows = session.execute(
        select(
            latest.c.incident_id,
            Device.asset_ref,
            meters(PingState.ON),
            meters(PingState.OFF),
            meters(PingState.NO_ANSWER),
            meters(PingState.PENDING),
            func.max(latest.c.answered_at).filter(answered),
            func.array_agg(func.distinct(latest.c.reason), type_=ARRAY(String)),
        )
        .join(Premise, Premise.id == latest.c.premise_id)
        .outerjoin(Device, Device.id == Premise.transformer_id)
        .group_by(latest.c.incident_id, Device.asset_ref)
        .order_by(latest.c.incident_id, Device.asset_ref.nulls_last())
    )
    found: dict[int, list[TransformerPings]] = {}
    for incident_id, transformer, on, off, silent, pending, last, reasons in rows:
        found.setdefault(incident_id, []).append(
            TransformerPings(
                transformer=transformer,
                counts=PingCounts(on=on, off=off, silent=silent, pending=pending),
                last_answer_at=last,
                reasons=_in_order({PingReason(r) for r in reasons}),
            )
        )
    return {i: IncidentPings(i, tuple(transformers)) for i, transformers in found.items()}


def _in_order(reasons: set[PingReason]) -> tuple[PingReason, ...]:
    return tuple(r for r in PingReason if r in reasons)
