"""Taking in reports and device events: the one path every channel goes through.

The caller owns the transaction: a report, its duplicate link and (later) the
notifications it implies commit together or not at all.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, String, Table, bindparam, column, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from outage import clock, locks
from outage.errors import Conflict, Invalid
from outage.grid import switching
from outage.grid.enums import SwitchSource
from outage.grid.models import Customer, Device, Feeder, Premise
from outage.grid.regions import UNPLACED
from outage.intake.enums import OUTAGE_CODES, MatchMethod, ReportStatus, ServiceCode, SwitchState
from outage.intake.geocode import Clues, Place, locate, places_where
from outage.intake.models import FaultIndication, Report, ScadaEvent
from outage.intake.schemas import (
    MatchOut,
    QueuedReportOut,
    ReceiptOut,
    ReportIn,
    ReportStatusOut,
    ScadaEventIn,
    ScadaEventOut,
)
from outage.moments import CLOCK_SKEW
from outage.settings import Settings
from outage.tickets import insert_with_ticket

TICKET_SUFFIX = 5
"""One character shorter than a service request's ticket (see `outage.tickets`)."""

_OPEN = (ReportStatus.RECEIVED, ReportStatus.NEEDS_AGENT)

_reports = cast(Table, Report.__table__)
_FILED = [
    c
    for c in _reports.c
    if c.key not in ("id", "incident_id", "closed_at", "outcome", "status", "duplicate_of_id")
]


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


_FILE_REPORT = (
    text(
        "WITH RECURSIVE moved(key) AS ("
        " SELECT CAST(:substation_id AS integer)"
        " UNION SELECT m.from_substation FROM substation_moves m"
        " JOIN moved ON m.to_substation = moved.key),"
        " earlier AS ("
        " SELECT id, ticket FROM reports"
        " WHERE customer_id = :customer_id"
        f" AND substation_id = ANY(ARRAY(SELECT key FROM moved UNION SELECT {UNPLACED}))"
        f" AND service_code IN ({_quoted(OUTAGE_CODES)}) AND status IN ({_quoted(_OPEN)})"
        " AND duplicate_of_id IS NULL AND received_at >= :since"
        " ORDER BY received_at LIMIT 1)"
        f" INSERT INTO reports ({', '.join(c.name for c in _FILED)}, status, duplicate_of_id)"
        f" VALUES ({', '.join(f':{c.key}' for c in _FILED)},"
        f" COALESCE((SELECT '{ReportStatus.DUPLICATE}' FROM earlier), :placed_status),"
        " (SELECT id FROM earlier))"
        " ON CONFLICT DO NOTHING"
        " RETURNING id, status, (SELECT ticket FROM earlier) AS duplicate_of"
    )
    .bindparams(
        *(bindparam(c.key, type_=c.type) for c in _FILED),
        bindparam("since", type_=_reports.c.received_at.type),
        bindparam("placed_status", type_=_reports.c.status.type),
    )
    .columns(_reports.c.id, _reports.c.status, column("duplicate_of", String))
)
"""A report and its duplicate link in one statement: the customer's earlier open report
(the same outage, told again) is looked for by the INSERT itself. It runs after the
customer's lock was taken, in a statement of its own (see `submit_report`), so its
snapshot sees a simultaneous report that got the lock first. A collision on ticket or
idempotency key returns no row. The earlier report is looked for under the report's own
substation key, the keys imports moved premises or customers from into it (one import or
several, `substation_moves`: an earlier report keeps the key it was filed under) and the
unplaced one (an agent's placing keeps key 0): a list of keys, so the index on the key
serves it.

Text, compiled once: SQLAlchemy compiles its PostgreSQL `insert().on_conflict_do_nothing()`
anew on every execution (it is not cacheable), which on a hot path costs more than the
database does. The parameters keep their columns' types (enums, JSONB, geometry)."""


class IdempotencyConflict(Invalid, ValueError):
    """The same Idempotency-Key came with a different request."""


class UnknownReference(Invalid, LookupError):
    """A meter id, asset, premise or ticket we do not have."""


class EventTimeRefused(Invalid, ValueError):
    """A device event dated in the future (beyond clock skew) or before the horizon."""

    code = "event_time"


class NotInQueue(Conflict, ValueError):
    """The report is not waiting for an agent (placed already, or closed)."""


@dataclass(frozen=True)
class Submission:
    report: ReportIn
    idempotency_key: str | None = None
    zalo_user_id: str | None = None
    """The Zalo user who sent it (the Zalo channel's contact)."""
    occurred_at: datetime | None = None
    """When the customer sent it, as their channel says: its report's time, never later
    than now, and not believed beyond `event_max_age_hours` ago. None: now."""


def _request_hash(submission: Submission) -> str:
    return hashlib.sha256(submission.report.model_dump_json().encode()).hexdigest()


def submit_report(session: Session, submission: Submission, settings: Settings) -> ReceiptOut:
    """Place, de-duplicate and store a report; a retried submission gets the first receipt.

    Two statements for a report an account, phone or e-mail places: the geocoding query,
    which also takes the customer's lock (two simultaneous reports of one customer count
    once), and the INSERT, which finds the customer's earlier report itself. Other clues
    take the lock in a statement of their own.
    """
    report = submission.report
    key = submission.idempotency_key
    request_hash = _request_hash(submission)
    # A retry is not looked for up front (most keys are new): its insert meets the key's
    # unique constraint, and then the first report's receipt is returned.
    clues = Clues(
        account=report.account,
        phone=report.phone,
        email=report.email,
        lon=report.lon,
        lat=report.lat,
        address=report.address,
    )
    match = locate(session, clues, settings, claim=True)
    place = match.place
    customer_id = place.customer_id if place else None
    if customer_id is not None and not match.claimed:
        session.execute(_LOCK_CUSTOMER, {"customer_id": customer_id})
    now = clock.now()
    received = now
    sent = submission.occurred_at
    if sent is not None and sent >= now - settings.event_max_age_hours:
        received = min(sent, now)
    values = {
        "service_code": ServiceCode.HAZARD if report.hazard else ServiceCode.OUTAGE,
        "channel": report.channel,
        "placed_status": ReportStatus.RECEIVED if match.placed else ReportStatus.NEEDS_AGENT,
        "since": now - settings.duplicate_window_hours,
        "received_at": received,
        "account_given": report.account,
        "phone": report.phone,
        "email": report.email,
        "zalo_user_id": submission.zalo_user_id,
        "address_given": report.address,
        "description": report.description,
        "hazard": report.hazard,
        "geom": f"SRID=4326;POINT({report.lon} {report.lat})" if report.lat is not None else None,
        "customer_id": customer_id,
        "premise_id": place.premise_id if place else None,
        "transformer_id": place.transformer_id if place else None,
        "feeder_id": place.feeder_id if place else None,
        "substation_id": (place.substation_id if place else None) or UNPLACED,
        "match_method": match.method,
        "match_confidence": match.confidence,
        "candidates": list(match.candidates),
        "idempotency_key": key,
        "request_hash": request_hash,
    }

    def stored(row: Row[Any], ticket: str) -> ReceiptOut:
        return ReceiptOut(
            id=row.id,
            ticket=ticket,
            status=row.status,
            match=_match_out(match.method, match.confidence, place),
            duplicate_of=row.duplicate_of,
        )

    return insert_with_ticket(
        session,
        _FILE_REPORT,
        values,
        now=now,
        suffix_length=TICKET_SUFFIX,
        stored=stored,
        earlier=None if key is None else lambda: _by_idempotency_key(session, key, request_hash),
    )


@dataclass(frozen=True)
class _Earlier:
    id: int
    ticket: str


def _earlier_report(session: Session, place: Place | None, since: datetime) -> _Earlier | None:
    """The same customer's open report about this outage, if they told us already.

    A transaction-scoped advisory lock on the customer makes two simultaneous reports
    from one customer count once.
    """
    if place is None or place.customer_id is None:
        return None
    customer = {"customer_id": place.customer_id}
    session.execute(_LOCK_CUSTOMER, customer)
    row = session.execute(_EARLIER_REPORT, {**customer, "since": since}).first()
    return _Earlier(row.id, row.ticket) if row else None


# Asked on every placed report: built once, so a report pays neither for building the
# queries nor for working out their cache keys.
_LOCK_CUSTOMER = select(
    func.pg_advisory_xact_lock(int(locks.LockSpace.CUSTOMER_REPORTS), bindparam("customer_id"))
)
_EARLIER_REPORT = (
    select(Report.id, Report.ticket)
    .where(
        Report.customer_id == bindparam("customer_id"),
        Report.service_code.in_(OUTAGE_CODES),
        Report.status.in_(_OPEN),
        Report.duplicate_of_id.is_(None),
        Report.received_at >= bindparam("since"),
    )
    .order_by(Report.received_at)
    .limit(1)
)


def _match_out(method: MatchMethod, confidence: float, place: Place | None) -> MatchOut:
    return MatchOut(
        premise=place.premise_ref if place else None,
        transformer=place.transformer_ref if place else None,
        feeder=place.feeder_name if place else None,
        method=method,
        confidence=confidence,
    )


def _by_idempotency_key(session: Session, key: str, request_hash: str) -> ReceiptOut | None:
    """The receipt of the report first sent with this key; refused if the report differs.

    Most keys are new: a one-table probe first keeps the common case to one cheap query.
    """
    if session.scalar(select(Report.id).where(Report.idempotency_key == key)) is None:
        return None
    transformer = aliased(Device)
    earlier = aliased(Report)
    row = session.execute(
        select(
            Report,
            Premise.ref,
            transformer.asset_ref,
            Feeder.name,
            earlier.ticket,
        )
        .outerjoin(Premise, Premise.id == Report.premise_id)
        .outerjoin(transformer, transformer.id == Report.transformer_id)
        .outerjoin(Feeder, Feeder.id == Report.feeder_id)
        .outerjoin(earlier, earlier.id == Report.duplicate_of_id)
        .where(Report.idempotency_key == key)
    ).first()
    if row is None:
        return None
    report, premise_ref, transformer_ref, feeder_name, duplicate_of = row
    if report.request_hash != request_hash:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used for a different report; use a new key"
        )
    place = Place(None, premise_ref, None, transformer_ref, None, feeder_name)
    return ReceiptOut(
        id=report.id,
        ticket=report.ticket,
        status=report.status,
        match=_match_out(report.match_method, report.match_confidence, place),
        duplicate_of=duplicate_of,
    )


def _ticket_of(session: Session, report_id: int | None) -> str | None:
    if report_id is None:
        return None
    return session.scalar(select(Report.ticket).where(Report.id == report_id))


def report_status(session: Session, ticket: str) -> ReportStatusOut | None:
    report = session.scalar(select(Report).where(Report.ticket == ticket.strip().upper()))
    if report is None:
        return None
    return ReportStatusOut(
        ticket=report.ticket,
        status=report.status,
        received_at=report.received_at,
        hazard=report.hazard,
        incident_id=report.incident_id,
        duplicate_of=_ticket_of(session, report.duplicate_of_id),
        closed_at=report.closed_at,
    )


def status_phones(session: Session, ticket: str) -> list[str]:
    """The phones whose last digits unlock a report's status: the one given with it and the
    one registered to the customer it was placed on (none for an unknown ticket)."""
    row = session.execute(
        select(Report.phone, Customer.phone)
        .outerjoin(Customer, Customer.id == Report.customer_id)
        .where(Report.ticket == ticket.strip().upper())
    ).one_or_none()
    return [phone for phone in row or () if phone]


def zalo_user_of(session: Session, ticket: str) -> str | None:
    """The Zalo user who sent the report with this ticket, if it came over Zalo."""
    return session.scalar(
        select(Report.zalo_user_id).where(Report.ticket == ticket.strip().upper())
    )


def status_emails(session: Session, ticket: str) -> list[str]:
    """The e-mail addresses a report's status may be sent to, lower-cased: the one given
    with it and the one registered to the customer it was placed on."""
    row = session.execute(
        select(Report.email, Customer.email)
        .outerjoin(Customer, Customer.id == Report.customer_id)
        .where(Report.ticket == ticket.strip().upper())
    ).one_or_none()
    return [email.lower() for email in row or () if email]


def check_event_times(times: Iterable[datetime], *, now: datetime, max_age: timedelta) -> None:
    """Refuse (EventTimeRefused) a time the engine would misplace: the engine applies
    device events at their own times, so a clock far off would invent or hide outages."""
    for at in times:
        problem = event_time_problem(at, now=now, max_age=max_age)
        if problem is not None:
            raise EventTimeRefused(problem)


def event_time_problem(at: datetime, *, now: datetime, max_age: timedelta) -> str | None:
    """Why a device event's time is refused (see `check_event_times`), or None."""
    if at > now + CLOCK_SKEW:
        return f"occurred_at {at.isoformat()} is in the future"
    if at < now - max_age:
        return f"occurred_at {at.isoformat()} is older than {max_age.total_seconds() / 3600:g} h"
    return None


def record_scada_event(
    session: Session, event: ScadaEventIn, *, max_age: timedelta
) -> ScadaEventOut:
    """Store the event as evidence and apply its state to the live network, and store its
    fault indication, unless SCADA sent it before; an unknown device (or a state change of
    an unswitchable one) is refused and nothing is stored."""
    check_event_times([event.occurred_at], now=clock.now(), max_age=max_age)
    device_id = session.scalar(select(Device.id).where(Device.asset_ref == event.asset_ref))
    if device_id is None:
        raise UnknownReference(f"unknown asset_ref: {event.asset_ref!r}")
    indicated = event.fault_passed is not None and _record_indication(
        session, device_id, event.fault_passed, event.occurred_at
    )
    switched = event.state is not None and _record_state(session, device_id, event, event.state)
    return ScadaEventOut(accepted=indicated or switched)


def _record_indication(
    session: Session, device_id: int, fault_passed: bool, occurred_at: datetime
) -> bool:
    """False when SCADA sent this indication before."""
    inserted = session.execute(
        insert(FaultIndication)
        .values(device_id=device_id, fault_passed=fault_passed, occurred_at=occurred_at)
        .on_conflict_do_nothing()
        .returning(FaultIndication.id)
    ).first()
    return inserted is not None


def _record_state(
    session: Session, device_id: int, event: ScadaEventIn, state: SwitchState
) -> bool:
    """False when SCADA sent this state change before."""
    inserted = session.execute(
        insert(ScadaEvent)
        .values(
            device_id=device_id,
            state=state,
            occurred_at=event.occurred_at,
            cause=event.cause,
        )
        .on_conflict_do_nothing()
        .returning(ScadaEvent.id)
    ).first()
    if inserted is None:
        return False
    switching.operate(
        session,
        event.asset_ref,
        is_open=state is SwitchState.OPEN,
        occurred_at=event.occurred_at,
        source=SwitchSource.SCADA,
        actor="scada",
        reason=event.cause,
    )
    return True


def review_queue(session: Session, *, limit: int = 50, offset: int = 0) -> list[QueuedReportOut]:
    """Reports no clue placed, oldest first: the agents' work list."""
    rows = session.execute(
        select(Report, func.ST_X(Report.geom), func.ST_Y(Report.geom))
        .where(Report.status == ReportStatus.NEEDS_AGENT)
        .order_by(Report.received_at, Report.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        QueuedReportOut(
            ticket=report.ticket,
            channel=report.channel,
            received_at=report.received_at,
            account_given=report.account_given,
            phone=report.phone,
            email=report.email,
            address_given=report.address_given,
            lon=lon,
            lat=lat,
            description=report.description,
            hazard=report.hazard,
            candidates=report.candidates,
        )
        for report, lon, lat in rows
    ]


def place_report(session: Session, ticket: str, premise_ref: str, settings: Settings) -> ReceiptOut:
    """An agent settles where a queued report belongs; it then counts like any other.

    A queued report was placed nowhere, so its substation key is `UNPLACED`, and it keeps
    it (a key never changes): the lock and the change name the key, which keeps them on
    one shard under Citus."""
    wanted = Report.ticket == ticket.strip().upper()
    queued = Report.substation_id == UNPLACED
    report = session.execute(
        select(Report.id, Report.ticket, Report.status, Report.service_code, Report.received_at)
        .where(wanted, queued)
        .with_for_update()
    ).first()
    if report is None or report.status is not ReportStatus.NEEDS_AGENT:
        found = (
            report or session.execute(select(Report.ticket, Report.status).where(wanted)).first()
        )
        if found is None:
            raise UnknownReference(f"no report with ticket {ticket!r}")
        raise NotInQueue(f"report {found.ticket} is {found.status.value}, not waiting for an agent")
    places = places_where(session, Premise.ref == premise_ref)
    if not places:
        raise UnknownReference(f"no premise {premise_ref!r}")
    place = places[0]
    window = settings.duplicate_window_hours
    is_outage = report.service_code in OUTAGE_CODES
    first = _earlier_report(session, place, report.received_at - window) if is_outage else None
    status = ReportStatus.DUPLICATE if first else ReportStatus.RECEIVED
    session.execute(
        update(Report)
        .where(queued, Report.id == report.id)
        .values(
            premise_id=place.premise_id,
            customer_id=place.customer_id,
            transformer_id=place.transformer_id,
            feeder_id=place.feeder_id,
            match_method=MatchMethod.AGENT,
            match_confidence=1.0,
            duplicate_of_id=first.id if first else None,
            status=status,
        ),
        execution_options={"synchronize_session": False},
    )
    return ReceiptOut(
        id=report.id,
        ticket=report.ticket,
        status=status,
        match=_match_out(MatchMethod.AGENT, 1.0, place),
        duplicate_of=first.ticket if first else None,
    )
