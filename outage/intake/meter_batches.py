"""A head-end's batch of meter events: every good event stored, every other one answered.

A storm sends last gasps by the ten thousand and a head-end retries what is refused, so a
batch is never refused for one bad event: each is validated alone, and those malformed or
dated out of bounds are answered with their reason, those of meters we do not know by the
meters, and the rest stored. Storage is one lookup of the meters and one insert of all the
rows, whatever the batch's size; an event stored before (same meter, kind and time) is a
duplicate, so a retried batch stores nothing twice.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import JsonValue, TypeAdapter, ValidationError
from sqlalchemy import BigInteger, DateTime, Integer, String, any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from outage import clock
from outage.grid.models import Feeder, Premise
from outage.grid.regions import UNPLACED
from outage.intake.models import MeterEvent
from outage.intake.schemas import MeterEventIn, MeterEventsIn, MeterEventsOut, RejectedEventOut
from outage.intake.service import event_time_problem

REASON_MAX = 300
"""A reason is cut here: an unknown key is named in it, and keys can be long."""

_EVENT = TypeAdapter(MeterEventIn)


@dataclass
class _Read:
    """A batch's events sorted into the valid ones and the rejected ones."""

    valid: list[MeterEventIn] = field(default_factory=list)
    rejected: list[RejectedEventOut] = field(default_factory=list)


def record_meter_events(
    session: Session, batch: MeterEventsIn, *, max_age: timedelta
) -> MeterEventsOut:
    """Store the batch's good events of known meters; answer the rest."""
    read = _read(batch.events, now=clock.now(), max_age=max_age)
    premises = premises_of(session, {event.meter_id for event in read.valid})
    known = [event for event in read.valid if event.meter_id in premises]
    unknown = sorted({event.meter_id for event in read.valid} - premises.keys())
    stored = _store(session, known, premises)
    cap = MeterEventsOut.ANSWER_CAP
    return MeterEventsOut(
        accepted=stored,
        duplicates=len(known) - stored,
        unknown_meters=unknown[:cap],
        unknown_meter_count=len(unknown),
        unknown_events=len(read.valid) - len(known),
        rejected=read.rejected[:cap],
        rejected_count=len(read.rejected),
    )


def _read(items: list[JsonValue], *, now: datetime, max_age: timedelta) -> _Read:
    read = _Read()
    for index, item in enumerate(items):
        try:
            event = _EVENT.validate_python(item)
        except ValidationError as exc:
            read.rejected.append(RejectedEventOut(index=index, reason=rejection_reason(exc)))
            continue
        problem = event_time_problem(event.occurred_at, now=now, max_age=max_age)
        if problem is None:
            read.valid.append(event)
        else:
            read.rejected.append(RejectedEventOut(index=index, reason=problem))
    return read


def rejection_reason(exc: ValidationError) -> str:
    """The validation errors in a line: where in the event, and what is wrong there."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    reason = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'event'}: {error['msg']}"
        for error in errors
    )
    return reason[:REASON_MAX]


@dataclass(frozen=True)
class MeterHome:
    premise_id: int
    substation_id: int
    """The premise's substation: the key of the meter's events."""


def premises_of(session: Session, meter_ids: set[str]) -> dict[str, MeterHome]:
    """Meter id -> its premise and substation, for the meters we know, in one query."""
    if not meter_ids:
        return {}
    wanted = literal(sorted(meter_ids), ARRAY(String))
    rows = session.execute(
        select(Premise.meter_id, Premise.id, func.coalesce(Feeder.substation_id, UNPLACED))
        .outerjoin(Feeder, Feeder.id == Premise.feeder_id)
        .where(Premise.meter_id == any_(wanted))
    )
    return {
        meter_id: MeterHome(premise_id, substation_id)
        for meter_id, premise_id, substation_id in rows
        if meter_id is not None
    }


def _store(session: Session, events: list[MeterEventIn], premises: dict[str, MeterHome]) -> int:
    """Insert the events in one statement, skipping those stored before; how many were new.

    Rows go in the order of the table's unique key, so two batches holding the same events
    wait for each other instead of deadlocking."""
    if not events:
        return 0
    ordered = sorted(events, key=lambda e: (e.meter_id, e.event.value, e.occurred_at))
    rows = (
        func.unnest(
            literal([e.meter_id for e in ordered], ARRAY(String)),
            literal([premises[e.meter_id].premise_id for e in ordered], ARRAY(BigInteger)),
            literal([premises[e.meter_id].substation_id for e in ordered], ARRAY(Integer)),
            literal([e.event.value for e in ordered], ARRAY(String)),
            literal([e.occurred_at for e in ordered], ARRAY(DateTime(timezone=True))),
        )
        .table_valued("meter_id", "premise_id", "substation_id", "kind", "occurred_at")
        .render_derived()
    )
    inserted = session.execute(
        insert(MeterEvent)
        .from_select(
            ["meter_id", "premise_id", "substation_id", "kind", "occurred_at"],
            select(
                rows.c.meter_id,
                rows.c.premise_id,
                rows.c.substation_id,
                rows.c.kind,
                rows.c.occurred_at,
            ),
        )
        .on_conflict_do_nothing()
        .returning(MeterEvent.id)
    )
    return len(inserted.all())
