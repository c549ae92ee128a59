"""Interruption records stored as incidents change, so reports need not derive them.

A change that ends an interruption (a restoration, a partial one by a crew or by
switching) or that changes whose records an incident makes (a cancellation, a merge, a
cause naming planned work) stores the incident's finished records again, as the trail now
gives them (`interruptions_of`), in its own transaction: `record_incident`. Records of
customers still out are not stored: a report derives them up to its own "now".

Beside the records, each customer's spells (their records merged as `merge_overlaps`
merges them) and the system's totals of the unplanned sustained ones by the instant they
began are rewritten for the customers whose records changed (`respell`), so a report
reads one row per interruption and the Major Event Day threshold sums a few rows a day.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage import clock
from outage.grid.live import shared_topology
from outage.grid.models import Customer, Feeder, Premise
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
    InterruptionTotal,
)
from outage.locks import INTERRUPTION_SPELLS

MICROSECOND = timedelta(microseconds=1)
CHUNK = 5_000
"""Customers whose spells are rewritten per statement."""


def stored_records(session: Session, *where: ColumnElement[bool]) -> list[InterruptionRecord]:
    """The stored records `where` selects."""
    return [
        InterruptionRecord(account, start, end, f"incident/{incident_id}", planned)
        for account, start, end, incident_id, planned in session.execute(
            select(
                Interruption.account,
                Interruption.start,
                Interruption.end,
                Interruption.incident_id,
                Interruption.planned,
            ).where(*where)
        )
    ]


def stored_spells(session: Session, *where: ColumnElement[bool]) -> list[InterruptionRecord]:
    """The stored spells `where` selects."""
    return [
        InterruptionRecord(account, start, end, event, planned)
        for account, start, end, event, planned in session.execute(
            select(
                InterruptionSpell.account,
                InterruptionSpell.start,
                InterruptionSpell.end,
                InterruptionSpell.event,
                InterruptionSpell.planned,
            ).where(*where)
        )
    ]


def _finished(history: IncidentHistory, as_of: datetime) -> list[InterruptionRecord]:
    return [r for r in interruptions_of(history, as_of=as_of) if not r.ongoing]


def store_records(
    session: Session, incidents: ColumnElement[bool], below: Below
) -> tuple[set[str], int]:
    """Store again the finished records of the incidents `incidents` selects (those no
    longer outages lose theirs). Returns the customers whose records were or are now
    stored, and how many records are stored now."""
    chosen = select(Incident.id).where(incidents)
    touched = set(
        session.scalars(
            select(Interruption.account).where(Interruption.incident_id.in_(chosen)).distinct()
        )
    )
    session.execute(delete(Interruption).where(Interruption.incident_id.in_(chosen)))
    now = clock.now()
    rows = [
        {
            "incident_id": int(history.event.removeprefix("incident/")),
            "incident_start": history.started_at,
            "account": record.customer,
            "start": record.start,
            "end": record.end,
            "planned": record.planned,
        }
        for history in incident_histories(session, and_(OUTAGES, incidents), below)
        for record in _finished(history, now)
    ]
    for first in range(0, len(rows), CHUNK):
        session.execute(insert(Interruption), rows[first : first + CHUNK])
    touched.update(str(row["account"]) for row in rows)
    return touched, len(rows)


def record_incident(
    session: Session, incident_id: int, *, topology: Topology | None = None
) -> None:
    """Store the incident's finished records as its trail now gives them, and the spells of
    its customers. `topology`: the live network as operated, if the caller holds it."""
    session.flush()  # the trail's new rows, for the queries below
    restored = select(IncidentEvent.id).where(
        IncidentEvent.incident_id == incident_id,
        IncidentEvent.action.in_((AuditAction.RESTORED, AuditAction.PARTIALLY_RESTORED)),
    )
    stored = select(Interruption.id).where(Interruption.incident_id == incident_id)
    if not session.scalar(select(restored.exists() | stored.exists())):
        return
    below = Below(session, topology or shared_topology(session.get_bind().engine.url).get(session))
    touched, _ = store_records(session, Incident.id == incident_id, below)
    respell(session, touched)


def _chunks(accounts: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(accounts)
    for first in range(0, len(ordered), CHUNK):
        yield ordered[first : first + CHUNK]


def _counted(start: datetime, end: datetime, planned: bool) -> bool:
    """What the Major Event Day totals count: unplanned and sustained."""
    return not planned and not InterruptionRecord("", start, end, "").momentary


Progress = Callable[[str, int, int], None]
"""What a long rebuild reports: its stage, what is done and the whole."""


def _quiet(stage: str, done: int, total: int) -> None:
    """No one is watching."""


def respell(session: Session, accounts: Iterable[str], progress: Progress = _quiet) -> None:
    """Rewrite the spells of these customers from their stored records, and the totals by
    what their old spells and their new ones add."""
    session.execute(select(func.pg_advisory_xact_lock(INTERRUPTION_SPELLS)))
    chunks = list(_chunks(accounts))
    total = sum(len(chunk) for chunk in chunks)
    done = 0
    for chunk in chunks:
        delta: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        old = session.execute(
            delete(InterruptionSpell)
            .where(InterruptionSpell.account.in_(chunk))
            .returning(InterruptionSpell.start, InterruptionSpell.end, InterruptionSpell.planned)
        )
        for start, end, planned in old:
            if _counted(start, end, planned):
                delta[start][0] -= _us(end - start)
                delta[start][1] -= 1
        records = stored_records(session, Interruption.account.in_(chunk))
        regions = regions_of(session, chunk)
        spells = merge_overlaps(records)
        if spells:
            counted = _momentary_events(spells)
            session.execute(
                insert(InterruptionSpell),
                [
                    {
                        "account": s.customer,
                        "start": s.start,
                        "end": s.end,
                        "event": s.event,
                        "planned": s.planned,
                        "momentary_event": s in counted,
                        "substation_id": regions.get(s.customer),
                    }
                    for s in spells
                ],
            )
        for spell in spells:
            if _counted(spell.start, spell.end, spell.planned):
                delta[spell.start][0] += _us(spell.duration)
                delta[spell.start][1] += 1
        _add_totals(session, delta)
        done += len(chunk)
        progress("spells", done, total)


def _momentary_events(spells: Iterable[InterruptionRecord]) -> set[InterruptionRecord]:
    """The spell that stands for each customer's momentary event (see `momentary_event`)."""
    sustained = {(s.customer, s.event) for s in spells if not s.momentary}
    first: dict[tuple[str, str], InterruptionRecord] = {}
    for spell in sorted(spells, key=lambda s: s.start):
        key = (spell.customer, spell.event)
        if spell.momentary and key not in sustained and key not in first:
            first[key] = spell
    return set(first.values())


def _us(length: timedelta) -> int:
    return length // MICROSECOND


def regions_of(session: Session, accounts: Collection[str]) -> dict[str, int]:
    """The region (substation) of each of these customers, by their normal feeder."""
    return dict(
        session.execute(
            select(Customer.account, Feeder.substation_id)
            .join(Premise, Premise.id == Customer.premise_id)
            .join(Feeder, Feeder.id == Premise.feeder_id)
            .where(Customer.account.in_(accounts))
        )
        .tuples()
        .all()
    )


def _add_totals(session: Session, delta: dict[datetime, list[int]]) -> None:
    changed = [
        {"began_at": at, "customer_us": us, "interruptions": n}
        for at, (us, n) in delta.items()
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
    follow. Doing it twice stores the same; the caller's one transaction makes it whole."""
    window = and_(
        Incident.started_at < until if until is not None else true(),
        or_(Incident.restored_at.is_(None), Incident.restored_at >= since)
        if since is not None
        else true(),
    )
    everything = since is None and until is None
    session.execute(select(func.pg_advisory_xact_lock(INTERRUPTION_SPELLS)))
    if everything:
        session.execute(delete(InterruptionTotal))
        session.execute(delete(InterruptionSpell))
        session.execute(delete(Interruption))
    ids = list(session.scalars(select(Incident.id).where(window).order_by(Incident.id)))
    below = Below(session, None)
    touched: set[str] = set()
    records = 0
    for first in range(0, len(ids), INCIDENTS_PER_STEP):
        chunk = ids[first : first + INCIDENTS_PER_STEP]
        found, stored = store_records(session, Incident.id.in_(chunk), below)
        touched |= found
        records += stored
        progress("incidents", first + len(chunk), len(ids))
    respell(session, touched, progress)
    return Rebuilt(incidents=len(ids), records=records, customers=len(touched))
