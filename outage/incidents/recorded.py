"""Interruption records stored as incidents change, so reports need not derive them.

A change that ends an interruption (a restoration, a partial one by a crew or by
switching) or that changes whose records an incident makes (a cancellation, a merge, a
cause naming planned work) stores the incident's finished records again, as the trail now
gives them (`interruptions_of`), in its own transaction: `record_incident`. Records of
customers still out are not stored: a report derives them up to its own "now".

Why restorations take no shared lock: the records are keyed by their incident, which the
change holds locked already (FOR NO KEY UPDATE), so two restorations of overlapping
customers write disjoint rows and both commit without waiting. What depends on several
incidents at once (each customer's spells, their records merged as `merge_overlaps`
merges them, also packed into one row for reports of long periods, and the system's
totals by the instant spells began) has a single writer, the spells job (`fold`), which
takes the customers a change left due, oldest first. A report counts a customer still
due from the records themselves, so it is right before the job has run
(`outage.reliability.stored`). A lock per customer taken by each restoration instead
would order them by their customers and deadlock with the planner and the engine, which
lock incidents first.

Incidents restored before records were stored have none: the backfill job (`backfill`)
stores them, oldest first, a few at a time, and reports derive what it has not reached
(`RecordedIncident`). `outage reliability rebuild` stores a period again after a
correction the records could not follow.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    any_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage import clock
from outage.grid.live import shared_topology
from outage.grid.models import Customer
from outage.incidents.enums import AuditAction
from outage.incidents.interruptions import (
    OUTAGES,
    Below,
    IncidentHistory,
    InterruptionRecord,
    incident_histories,
    interruptions_of,
    merge_overlaps,
)
from outage.incidents.models import (
    Incident,
    IncidentEvent,
    Interruption,
    InterruptionSpell,
    InterruptionSpellPack,
    InterruptionTotal,
    RecordedIncident,
    SpellsDue,
)
from outage.locks import INTERRUPTION_SPELLS

MICROSECOND = timedelta(microseconds=1)
CHUNK = 5_000
"""Customers whose spells are rewritten per statement."""
FOLD_BATCH = 100_000
"""Customers due taken by one run of the spells job."""
BACKFILL_BATCH = 200
"""Incidents restored before the upgrade stored by one run of the backfill job."""


def _records_of(
    session: Session,
    table: type[Interruption] | type[InterruptionSpell],
    *where: ColumnElement[bool],
) -> list[InterruptionRecord]:
    return [
        InterruptionRecord(account, start, end, f"incident/{incident_id}", planned)
        for account, start, end, incident_id, planned in session.execute(
            select(Customer.account, table.start, table.end, table.incident_id, table.planned)
            .join(Customer, Customer.id == table.customer_id)
            .where(*where)
        )
    ]


def stored_records(session: Session, *where: ColumnElement[bool]) -> list[InterruptionRecord]:
    """The stored records `where` selects."""
    return _records_of(session, Interruption, *where)


def stored_spells(session: Session, *where: ColumnElement[bool]) -> list[InterruptionRecord]:
    """The stored spells `where` selects."""
    return _records_of(session, InterruptionSpell, *where)


def customer_ids(session: Session, accounts: Collection[str]) -> dict[str, int]:
    """The id of each of these customers that exists."""
    if not accounts:
        return {}
    return dict(
        session.execute(select(Customer.account, Customer.id).where(Customer.account.in_(accounts)))
        .tuples()
        .all()
    )


def _finished(history: IncidentHistory, as_of: datetime) -> list[InterruptionRecord]:
    return [r for r in interruptions_of(history, as_of=as_of) if not r.ongoing]


def store_records(
    session: Session, incidents: ColumnElement[bool], below: Below, *, mark_due: bool = True
) -> tuple[set[int], int]:
    """Store again the finished records of the incidents `incidents` selects (those no
    longer outages lose theirs), mark them recorded and, with `mark_due`, leave their
    customers due. Returns those customers and how many records are stored now.

    The incidents are locked as the engine and the planner lock them, in the order of
    their ids: a change to one waits, so its records are stored once, after these."""
    chosen = list(
        session.scalars(
            select(Incident.id)
            .where(incidents)
            .order_by(Incident.id)
            .with_for_update(key_share=True)
        )
    )
    if not chosen:
        return set(), 0
    touched = set(
        session.scalars(
            delete(Interruption)
            .where(Interruption.incident_id.in_(chosen))
            .returning(Interruption.customer_id)
        )
    )
    records = [
        (history, record)
        for history in incident_histories(session, and_(OUTAGES, Incident.id.in_(chosen)), below)
        for record in _finished(history, clock.now())
    ]
    ids = customer_ids(session, {record.customer for _, record in records})
    rows = [
        {
            "incident_id": int(history.event.removeprefix("incident/")),
            "incident_start": history.started_at,
            "customer_id": ids[record.customer],
            "start": record.start,
            "end": record.end,
            "planned": record.planned,
        }
        for history, record in records
        if record.customer in ids
    ]
    for first in range(0, len(rows), CHUNK):
        session.execute(insert(Interruption), rows[first : first + CHUNK])
    session.execute(
        insert(RecordedIncident).on_conflict_do_nothing(),
        [{"incident_id": incident_id} for incident_id in chosen],
    )
    touched.update(ids[record.customer] for _, record in records if record.customer in ids)
    due = sorted(touched) if mark_due else []
    for first in range(0, len(due), CHUNK):
        session.execute(insert(SpellsDue), [{"customer_id": c} for c in due[first : first + CHUNK]])
    return touched, len(rows)


def record_incident(
    session: Session, incident_id: int, *, topology: Topology | None = None
) -> None:
    """Store the incident's finished records as its trail now gives them, and leave its
    customers due for their spells. `topology`: the live network as operated, if the
    caller holds it."""
    record_incidents(session, [incident_id], topology=topology)


def record_incidents(
    session: Session, incident_ids: Collection[int], *, topology: Topology | None = None
) -> None:
    """`record_incident` of many incidents at once: those neither restored nor recorded
    yet (a storm cycle's merges, mostly) cost one query together."""
    session.flush()  # the trail's new rows, for the queries below
    if not incident_ids:
        return
    wanted = literal(sorted(set(incident_ids)), ARRAY(Integer))
    restored = select(IncidentEvent.incident_id).where(
        IncidentEvent.incident_id == any_(wanted),
        IncidentEvent.action.in_((AuditAction.RESTORED, AuditAction.PARTIALLY_RESTORED)),
    )
    stored = select(Interruption.incident_id).where(Interruption.incident_id == any_(wanted))
    found = sorted(set(session.scalars(restored.union(stored))))
    if not found:
        return
    below = Below(session, topology or shared_topology(session.get_bind().engine.url).get(session))
    store_records(session, Incident.id.in_(found), below)


def backfill(session: Session, topology: Topology | None, batch: int = BACKFILL_BATCH) -> int:
    """Store the records of the oldest restored incidents that have none stored (restored
    before the upgrade), `batch` at a time; one being changed now is left to its change,
    which stores them itself. Returns how many incidents were stored."""
    unrecorded = ~exists().where(RecordedIncident.incident_id == Incident.id)
    ids = list(
        session.scalars(
            select(Incident.id)
            .where(Incident.restored_at.is_not(None), unrecorded)
            .order_by(Incident.restored_at, Incident.id)
            .limit(batch)
            .with_for_update(key_share=True, skip_locked=True)
        )
    )
    if ids:
        store_records(session, Incident.id.in_(ids), Below(session, topology))
    return len(ids)


def fold(session: Session, batch: int = FOLD_BATCH) -> int:
    """Write the spells (and the totals) of the customers due, `batch` entries at a time;
    nothing when another run or a rebuild is writing them. Returns the customers done."""
    if not session.scalar(select(func.pg_try_advisory_xact_lock(INTERRUPTION_SPELLS))):
        return 0
    oldest = select(SpellsDue.id).order_by(SpellsDue.id).limit(batch)
    due = set(
        session.scalars(
            delete(SpellsDue).where(SpellsDue.id.in_(oldest)).returning(SpellsDue.customer_id)
        )
    )
    respell(session, due)
    return len(due)


def _chunks(customers: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(customers)
    for first in range(0, len(ordered), CHUNK):
        yield ordered[first : first + CHUNK]


def _counted(start: datetime, end: datetime, planned: bool) -> bool:
    """What the Major Event Day totals count: unplanned and sustained."""
    return not planned and not InterruptionRecord("", start, end, "").momentary


Progress = Callable[[str, int, int], None]
"""What a long rebuild reports: its stage, what is done and the whole."""


def _quiet(stage: str, done: int, total: int) -> None:
    """No one is watching."""


def respell(session: Session, customers: Iterable[int], progress: Progress = _quiet) -> None:
    """Rewrite the spells of these customers from their stored records, their packed rows,
    and the totals by what their old spells and their new ones add. The caller holds
    `INTERRUPTION_SPELLS`."""
    chunks = list(_chunks(customers))
    total = sum(len(chunk) for chunk in chunks)
    done = 0
    for chunk in chunks:
        delta: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        old = session.execute(
            delete(InterruptionSpell)
            .where(InterruptionSpell.customer_id.in_(chunk))
            .returning(InterruptionSpell.start, InterruptionSpell.end, InterruptionSpell.planned)
        )
        for start, end, planned in old:
            if _counted(start, end, planned):
                delta[start][0] -= _us(end - start)
                delta[start][1] -= 1
        records = [
            InterruptionRecord(str(customer), start, end, str(incident_id), planned)
            for customer, start, end, incident_id, planned in session.execute(
                select(
                    Interruption.customer_id,
                    Interruption.start,
                    Interruption.end,
                    Interruption.incident_id,
                    Interruption.planned,
                ).where(Interruption.customer_id.in_(chunk))
            )
        ]
        spells = merge_overlaps(records)
        if spells:
            session.execute(
                insert(InterruptionSpell),
                [
                    {
                        "customer_id": int(s.customer),
                        "start": s.start,
                        "end": s.end,
                        "incident_id": int(s.event),
                        "planned": s.planned,
                    }
                    for s in spells
                ],
            )
        for spell in spells:
            if _counted(spell.start, spell.end, spell.planned):
                delta[spell.start][0] += _us(spell.duration)
                delta[spell.start][1] += 1
        pack(session, chunk)
        _add_totals(session, delta)
        done += len(chunk)
        progress("spells", done, total)


_PACK = (
    "INSERT INTO interruption_spell_packs (customer_id, spells)"
    ' SELECT customer_id, string_agg(timestamptz_send(start) || timestamptz_send("end")'
    " || int4send(incident_id) || boolsend(planned), ''::bytea ORDER BY start)"
    " FROM interruption_spells{where} GROUP BY customer_id"
)
PACKED_SPELL = np.dtype([("start", ">i8"), ("end", ">i8"), ("event", ">i4"), ("planned", "?")])
"""One spell of a packed row (`InterruptionSpellPack`), as `pack` writes it."""


def pack(session: Session, customers: list[int] | None = None) -> None:
    """Pack the spells of these customers (everyone's without) into their rows again, from
    their spells as they are now."""
    if customers is None:
        session.execute(delete(InterruptionSpellPack))
        session.execute(text(_PACK.format(where="")))
        return
    session.execute(
        delete(InterruptionSpellPack).where(InterruptionSpellPack.customer_id.in_(customers))
    )
    session.execute(
        text(_PACK.format(where=" WHERE customer_id = ANY(:customers)")), {"customers": customers}
    )


def _us(length: timedelta) -> int:
    return length // MICROSECOND


def _add_totals(session: Session, delta: dict[datetime, list[int]]) -> None:
    changed = [
        {"began_at": at, "customer_us": us, "interruptions": n}
        for at, (us, n) in sorted(delta.items())
        if us or n
    ]
    if not changed:
        return
    statement = insert(InterruptionTotal)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[InterruptionTotal.began_at],
            set_={
                "customer_us": InterruptionTotal.customer_us + statement.excluded.customer_us,
                "interruptions": InterruptionTotal.interruptions + statement.excluded.interruptions,
            },
        ),
        changed,
    )
    session.execute(
        delete(InterruptionTotal).where(
            InterruptionTotal.began_at.in_([row["began_at"] for row in changed]),
            InterruptionTotal.interruptions == 0,
        )
    )


INCIDENTS_PER_STEP = 500
"""Incidents derived again per statement of a rebuild."""


@dataclass(frozen=True)
class Rebuilt:
    incidents: int
    """Incidents whose records were derived again (outages or not)."""
    records: int
    """Records stored for them now."""
    customers: int
    """Customers whose spells were written again."""


def rebuild(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress = _quiet,
) -> Rebuilt:
    """Store again, from the incidents and their trail, the records of every incident that
    may have kept someone out in [since, until) (all of them without bounds), and the
    spells and totals of their customers: after a correction the stored records could not
    follow. Doing it twice stores the same; the caller's one transaction makes it whole.
    It leaves no customer due, and takes none off: one a restoration left due meanwhile
    gets its spells from the job, after it."""
    window = and_(
        Incident.started_at < until if until is not None else true(),
        or_(Incident.restored_at.is_(None), Incident.restored_at >= since)
        if since is not None
        else true(),
    )
    session.execute(select(func.pg_advisory_xact_lock(INTERRUPTION_SPELLS)))
    if since is None and until is None:
        everything = (
            InterruptionTotal,
            InterruptionSpellPack,
            InterruptionSpell,
            Interruption,
            RecordedIncident,
            SpellsDue,
        )
        for table in everything:
            session.execute(delete(table))
    ids = list(session.scalars(select(Incident.id).where(window).order_by(Incident.id)))
    below = Below(session, None)
    touched: set[int] = set()
    records = 0
    for first in range(0, len(ids), INCIDENTS_PER_STEP):
        chunk = ids[first : first + INCIDENTS_PER_STEP]
        found, stored = store_records(session, Incident.id.in_(chunk), below, mark_due=False)
        touched |= found
        records += stored
        progress("incidents", first + len(chunk), len(ids))
    respell(session, touched, progress)
    return Rebuilt(incidents=len(ids), records=records, customers=len(touched))
