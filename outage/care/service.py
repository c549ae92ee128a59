"""Service requests: taking them in from every channel, moving them through the back
office, and the customer's view and rating.

The caller owns the transaction. A request and its first trail entry commit together; a
retried submission with the same idempotency key gets the first receipt. Its arrival and
every change of its state write an outbox event in the same transaction (`_tell`):
notifications tell the requester, once per trail entry.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Select, Table, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage import clock
from outage.care import owners, sla
from outage.care.enums import RequestState, RequestType, TrailKind
from outage.care.lifecycle import CLOSED, OPEN, check_transition
from outage.care.models import CareTeam, ServiceRequest, ServiceRequestEvent
from outage.care.schemas import (
    OwnerIn,
    RequestIn,
    RequestOut,
    RequestReceiptOut,
    RequestStatusOut,
)
from outage.errors import Conflict, NotFound
from outage.grid.models import Customer, Premise
from outage.i18n import DEFAULT_LANGUAGE, Language
from outage.intake.geocode import Clues, locate
from outage.intake.service import IdempotencyConflict
from outage.outbox.enums import EventKind
from outage.outbox.writer import write_event
from outage.settings import Settings
from outage.tickets import TICKET_ALPHABET, insert_with_ticket

TICKET_SUFFIX = 6
"""One character longer than a report's ticket: the two never collide, and a ticket's
shape tells which it is."""

SUBMITTER = "customer"
"""The trail's actor of a request's arrival and of its rating."""

_requests = cast(Table, ServiceRequest.__table__)
_INSERT = insert(_requests).on_conflict_do_nothing().returning(_requests.c.id)


class RequestNotFound(NotFound, LookupError):
    """No request has this ticket."""


class NotRatable(Conflict, ValueError):
    """Rated already, or not closed yet."""


def is_request_ticket(ticket: str) -> bool:
    """Shaped like a service request's ticket (a report's has a shorter suffix)."""
    date, _, suffix = ticket.strip().upper().partition("-")
    return (
        len(date) == 6
        and date.isdigit()
        and len(suffix) == TICKET_SUFFIX
        and all(c in TICKET_ALPHABET for c in suffix)
    )


def _normal(ticket: str) -> str:
    return ticket.strip().upper()


def _hash(request: RequestIn) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def _tell(session: Session, found: ServiceRequest, trail: ServiceRequestEvent) -> None:
    """The requester is to hear of this trail entry (the request's arrival or a change of
    its state); the entry's id is the message's version, so each is told once."""
    session.flush()
    write_event(
        session,
        EventKind.REQUEST_UPDATE,
        service_request_id=found.id,
        device_id=None,
        details={
            "revision": trail.id,
            "ticket": found.ticket,
            "type": found.request_type.value,
            "state": trail.to_state.value,
            "reason": found.rejection_reason,
        },
    )


def submit_request(
    session: Session,
    request: RequestIn,
    *,
    settings: Settings,
    language: Language = DEFAULT_LANGUAGE,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> RequestReceiptOut:
    """Store a request, placed on a customer and premise when a clue allows, due by its
    type's SLA target; a retry with the same key gets the first receipt. `language` is
    the one it came in, for its messages when it is on no customer."""
    request_hash = _hash(request)
    if idempotency_key is not None:
        earlier = _by_key(session, idempotency_key, request_hash)
        if earlier is not None:
            return earlier
    match = locate(
        session,
        Clues(
            account=request.account,
            phone=request.phone,
            email=request.email,
            lon=request.lon,
            lat=request.lat,
            address=request.address,
        ),
        settings,
    )
    place = match.place
    received = now or clock.now()
    team = owners.first_owner(session, settings, request.type)
    due = sla.due_at(received, sla.target_of(settings.care_sla_hours, request.type))
    values: dict[str, Any] = {
        "request_type": request.type,
        "channel": request.channel,
        "language": language,
        "state": RequestState.RECEIVED,
        "received_at": received,
        "due_at": due,
        "updated_at": received,
        "account_given": request.account,
        "phone": request.phone,
        "email": request.email,
        "address_given": request.address,
        "description": request.description,
        "details": dict(request.details),
        "geom": (
            f"SRID=4326;POINT({request.lon} {request.lat})" if request.lat is not None else None
        ),
        "customer_id": place.customer_id if place else None,
        "premise_id": place.premise_id if place else None,
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "owner_team_id": team.id,
    }

    def stored(row: Row[Any], ticket: str) -> RequestReceiptOut:
        request_id: int = row.id
        trail = ServiceRequestEvent(
            request_id=request_id,
            at=received,
            actor=SUBMITTER,
            from_state=None,
            to_state=RequestState.RECEIVED,
            note=None,
            owner_team=team.name,
        )
        session.add(trail)
        _tell(session, session.get_one(ServiceRequest, request_id), trail)
        return RequestReceiptOut(
            ticket=ticket,
            type=request.type,
            state=RequestState.RECEIVED,
            received_at=received,
            due_at=due,
        )

    return insert_with_ticket(
        session,
        _INSERT,
        values,
        now=received,
        suffix_length=TICKET_SUFFIX,
        stored=stored,
        earlier=(
            None
            if idempotency_key is None
            else lambda: _by_key(session, idempotency_key, request_hash)
        ),
    )


def _by_key(session: Session, key: str, request_hash: str) -> RequestReceiptOut | None:
    found = session.scalar(select(ServiceRequest).where(ServiceRequest.idempotency_key == key))
    if found is None:
        return None
    if found.request_hash != request_hash:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used for a different request; use a new key"
        )
    return RequestReceiptOut(
        ticket=found.ticket,
        type=found.request_type,
        state=found.state,
        received_at=found.received_at,
        due_at=found.due_at,
    )


# --- the customer's view --------------------------------------------------------------


def _status_out(found: ServiceRequest) -> RequestStatusOut:
    return RequestStatusOut(
        ticket=found.ticket,
        type=found.request_type,
        state=found.state,
        received_at=found.received_at,
        due_at=found.due_at,
        updated_at=found.updated_at,
        closed_at=found.closed_at,
        rejection_reason=found.rejection_reason,
        rating=found.rating,
        can_rate=found.state in CLOSED and found.rating is None,
    )


def request_status(session: Session, ticket: str) -> RequestStatusOut | None:
    found = session.scalar(select(ServiceRequest).where(ServiceRequest.ticket == _normal(ticket)))
    return _status_out(found) if found is not None else None


def status_phones(session: Session, ticket: str) -> list[str]:
    """The phones whose last digits unlock a request: the one given with it and the one
    registered to the customer it was placed on (none for an unknown ticket)."""
    row = session.execute(
        select(ServiceRequest.phone, Customer.phone)
        .outerjoin(Customer, Customer.id == ServiceRequest.customer_id)
        .where(ServiceRequest.ticket == _normal(ticket))
    ).one_or_none()
    return [phone for phone in row or () if phone]


def rate_request(
    session: Session,
    ticket: str,
    *,
    rating: int,
    comment: str | None,
    now: datetime | None = None,
) -> RequestStatusOut:
    """The customer's satisfaction, once, after the request is closed."""
    found = _locked(session, ticket)
    if found.state not in CLOSED:
        raise NotRatable(
            f"request {found.ticket} is {found.state.value}: it can be rated once it is done "
            "or rejected"
        )
    if found.rating is not None:
        raise NotRatable(f"request {found.ticket} was rated already")
    found.rating = rating
    found.rating_comment = comment or None
    found.rated_at = now or clock.now()
    session.add(
        ServiceRequestEvent(
            request_id=found.id,
            at=found.rated_at,
            actor=SUBMITTER,
            from_state=found.state,
            to_state=found.state,
            kind=TrailKind.RATED,
            rating=rating,
            note=found.rating_comment,
        )
    )
    return _status_out(found)


# --- the back office ------------------------------------------------------------------


def _locked(session: Session, ticket: str) -> ServiceRequest:
    found = session.scalar(
        select(ServiceRequest).where(ServiceRequest.ticket == _normal(ticket)).with_for_update()
    )
    if found is None:
        raise RequestNotFound(f"no service request with ticket {ticket!r}")
    return found


def transition(
    session: Session,
    ticket: str,
    *,
    to: RequestState,
    reason: str | None,
    actor: str,
    now: datetime | None = None,
) -> RequestOut:
    """Move a request on, as the lifecycle allows (InvalidRequestTransition otherwise)."""
    found = _locked(session, ticket)
    check_transition(found.state, to, reason)
    moment = now or clock.now()
    trail = ServiceRequestEvent(
        request_id=found.id,
        at=moment,
        actor=actor,
        from_state=found.state,
        to_state=to,
        note=reason or None,
    )
    session.add(trail)
    found.state = to
    found.updated_at = moment
    if to in CLOSED:
        found.closed_at = moment
    if to is RequestState.REJECTED:
        found.rejection_reason = reason
    _tell(session, found, trail)
    [out] = _rows(session, _select().where(ServiceRequest.id == found.id), moment)
    return out


def set_owner(
    session: Session,
    ticket: str,
    owner: OwnerIn,
    *,
    actor: str,
    settings: Settings,
    now: datetime | None = None,
) -> RequestOut:
    """Give an open request to another team or agent (`owners.reassign`), with the reason
    in the trail."""
    found = _locked(session, ticket)
    moment = now or clock.now()
    owners.reassign(
        session,
        found,
        team=owner.team,
        agent=owner.agent,
        reason=owner.reason,
        actor=actor,
        settings=settings,
        now=moment,
    )
    [out] = _rows(session, _select().where(ServiceRequest.id == found.id), moment)
    return out


@dataclass(frozen=True)
class QueueFilter:
    types: frozenset[RequestType] = frozenset()
    states: frozenset[RequestState] = frozenset(OPEN)
    breached: bool | None = None
    """True: only open requests past due; False: only those that are not."""


def _select() -> Select[Any]:
    return (
        select(ServiceRequest, Customer.account, Premise.ref, CareTeam.name)
        .join(CareTeam, CareTeam.id == ServiceRequest.owner_team_id)
        .outerjoin(Customer, Customer.id == ServiceRequest.customer_id)
        .outerjoin(Premise, Premise.id == ServiceRequest.premise_id)
    )


def _rows(session: Session, query: Select[Any], now: datetime) -> list[RequestOut]:
    return [
        _request_out(r, account, premise, team, now)
        for r, account, premise, team in session.execute(query)
    ]


def _request_out(
    found: ServiceRequest, account: str | None, premise: str | None, team: str, now: datetime
) -> RequestOut:
    end = found.closed_at or now
    return RequestOut(
        ticket=found.ticket,
        type=found.request_type,
        channel=found.channel,
        state=found.state,
        sla=sla.standing(
            received_at=found.received_at, due=found.due_at, now=now, closed_at=found.closed_at
        ),
        received_at=found.received_at,
        due_at=found.due_at,
        updated_at=found.updated_at,
        closed_at=found.closed_at,
        age_hours=round((end - found.received_at).total_seconds() / 3600, 2),
        account=account or found.account_given,
        premise=premise,
        phone=found.phone,
        email=found.email,
        address=found.address_given,
        description=found.description,
        details=dict(found.details or {}),
        rejection_reason=found.rejection_reason,
        rating=found.rating,
        rating_comment=found.rating_comment,
        team=team,
        agent=found.owner_agent,
        warned_at=found.warned_at,
        escalated_at=found.escalated_at,
    )


def work_queue(
    session: Session,
    *,
    where: QueueFilter = QueueFilter(),
    now: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RequestOut]:
    """The back-office queue, most urgent (earliest due) first."""
    moment = now or clock.now()
    query = _select().order_by(ServiceRequest.due_at, ServiceRequest.id).limit(limit).offset(offset)
    if where.types:
        query = query.where(ServiceRequest.request_type.in_(sorted(where.types)))
    if where.states:
        query = query.where(ServiceRequest.state.in_(sorted(where.states)))
    if where.breached is not None:
        past_due = ServiceRequest.due_at < moment
        query = query.where(
            ServiceRequest.state.in_(sorted(OPEN)), past_due if where.breached else ~past_due
        )
    return _rows(session, query, moment)


def breached(session: Session, *, now: datetime | None = None, limit: int = 50) -> list[RequestOut]:
    """Open requests past their due time, the most overdue first: the supervisor's list."""
    return work_queue(session, where=QueueFilter(breached=True), now=now, limit=limit)


def requests_of(
    session: Session,
    *,
    customer_ids: list[int],
    premise_ids: list[int],
    open_only: bool = True,
    now: datetime | None = None,
    limit: int = 100,
) -> list[tuple[int | None, int | None, RequestOut]]:
    """Requests of these customers or about these premises, newest first, each with the
    customer and premise it was placed on (for the agent console's cards)."""
    if not customer_ids and not premise_ids:
        return []
    query = (
        _select()
        .add_columns(ServiceRequest.customer_id, ServiceRequest.premise_id)
        .where(
            or_(
                ServiceRequest.customer_id.in_(customer_ids),
                ServiceRequest.premise_id.in_(premise_ids),
            )
        )
        .order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc())
        .limit(limit)
    )
    if open_only:
        query = query.where(ServiceRequest.state.in_(sorted(OPEN)))
    moment = now or clock.now()
    return [
        (customer_id, premise_id, _request_out(found, account, premise, team, moment))
        for found, account, premise, team, customer_id, premise_id in session.execute(query)
    ]
