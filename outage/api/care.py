"""HTTP routes of customer care: file a request, follow and rate it, work the queue.

A customer sees their request by its ticket and the last four digits of their phone, as
with reports (`GET /api/v1/reports/{ticket}`), and wrong guesses of one ticket are limited
the same way; back-office staff need neither.
"""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from sqlalchemy.orm import Session

from outage import clock
from outage.api.intake import refuse_unproven
from outage.auth import service as accounts
from outage.care import owners, service, supervision, visits
from outage.care.enums import RequestState, RequestType
from outage.care.lifecycle import OPEN
from outage.care.schemas import (
    OwnerIn,
    RatingIn,
    RequestHistoryOut,
    RequestIn,
    RequestOut,
    RequestPatch,
    RequestReceiptOut,
    RequestStatusOut,
    TeamViewOut,
)
from outage.fields import PhoneLast4
from outage.intake.limits import IntakeLimits
from outage.intake.owners import Verdict, verify_owner
from outage.web.deps import MAX_OFFSET, LimitsDep, SessionDep, SettingsDep, client_ip
from outage.web.principal import Principal, PrincipalDep, require
from outage.web.rendering import request_language

router = APIRouter(prefix="/api/v1", tags=["customer care"])

TicketPath = Annotated[str, Path(max_length=32)]
WORK = "requests.work"
ASSIGN = "requests.assign"
SUPERVISE = "pages.supervisor"


@router.post(
    "/requests",
    status_code=status.HTTP_201_CREATED,
    response_model=RequestReceiptOut,
    dependencies=[Depends(require("requests.submit"))],
)
def submit_request(
    body: RequestIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    config: SettingsDep,
    limits: LimitsDep,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=180, description="Retry-safe"),
    ] = None,
    lang: str | None = None,
) -> RequestReceiptOut:
    """A service request from a customer, an app, or an agent on a caller's behalf.

    Rate limits per client address and phone apply to all but signed-in staff. The
    requester is told of its progress in `lang` (else the Accept-Language's, else
    Vietnamese), unless it is placed on a customer, who is told in their own.
    """
    if not principal.is_staff:
        limits.check(ip=client_ip(request), phone=body.phone)
    return service.submit_request(
        session,
        body,
        settings=config,
        language=request_language(request, lang),
        idempotency_key=f"api:{idempotency_key}" if idempotency_key else None,
    )


@router.post(
    "/reports/{ticket}/visit",
    status_code=status.HTTP_201_CREATED,
    response_model=RequestReceiptOut,
    dependencies=[Depends(require(WORK))],
    responses={409: {"description": "the report did not close as a fault inside the premise"}},
)
def request_visit(
    ticket: TicketPath,
    request: Request,
    session: SessionDep,
    config: SettingsDep,
    lang: str | None = None,
) -> RequestReceiptOut:
    """A service visit (a connection check) for a report closed because the customer's
    meter has power, filed by the care centre; asking again gets the same request."""
    return visits.request_visit(
        session, ticket, settings=config, language=request_language(request, lang)
    )


@router.get("/requests", response_model=list[RequestOut], dependencies=[Depends(require(WORK))])
def work_queue(
    session: SessionDep,
    type: Annotated[list[RequestType] | None, Query(description="Only these types")] = None,
    state: Annotated[
        list[RequestState] | None, Query(description="Only these states; open ones if none")
    ] = None,
    breached: Annotated[
        bool | None, Query(description="true: open and past due; false: open, not yet")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[RequestOut]:
    """The back-office queue, earliest due first."""
    where = service.QueueFilter(
        types=frozenset(type or ()), states=frozenset(state or OPEN), breached=breached
    )
    return service.work_queue(session, where=where, limit=limit, offset=offset)


def requesters_request(
    ticket: TicketPath,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    limits: LimitsDep,
    phone_last4: Annotated[
        PhoneLast4 | None,
        Query(
            description="Last four digits of the phone given with the request, or registered "
            "to the customer's account; back-office staff need none.",
        ),
    ] = None,
) -> RequestStatusOut:
    """The request of the ticket, once its requester is proven (404: no such ticket)."""
    found = service.request_status(session, ticket)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no service request with ticket {ticket!r}")
    _check_requester(session, principal, limits, found.ticket, phone_last4, client_ip(request))
    return found


RequestersRequest = Annotated[RequestStatusOut, Depends(requesters_request)]


@router.get(
    "/requests/{ticket}",
    response_model=RequestStatusOut,
    dependencies=[Depends(require("requests.status"))],
    responses={403: {"description": "phone_last4 is missing or does not match"}},
)
def request_status(found: RequestersRequest) -> RequestStatusOut:
    """Where a request stands, for the customer who made it: nothing personal."""
    return found


@router.post(
    "/requests/{ticket}/rating",
    response_model=RequestStatusOut,
    dependencies=[Depends(require("requests.status"))],
    responses={
        403: {"description": "phone_last4 is missing or does not match"},
        409: {"description": "not closed yet, or rated already"},
    },
)
def rate_request(
    ticket: TicketPath,
    body: RatingIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    limits: LimitsDep,
) -> RequestStatusOut:
    """The customer's satisfaction (1-5, with a comment), once the request is closed."""
    found = service.request_status(session, ticket)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no service request with ticket {ticket!r}")
    _check_requester(session, principal, limits, found.ticket, body.phone_last4, client_ip(request))
    return service.rate_request(session, found.ticket, rating=body.rating, comment=body.comment)


@router.patch(
    "/requests/{ticket}",
    response_model=RequestOut,
    dependencies=[Depends(require(WORK))],
    responses={404: {"description": "no such ticket"}, 409: {"description": "not allowed now"}},
)
def move_request(
    ticket: TicketPath, patch: RequestPatch, session: SessionDep, principal: PrincipalDep
) -> RequestOut:
    """Take, progress, wait for the customer, close or reject (with a reason) a request."""
    return service.transition(
        session, ticket, to=patch.state, reason=patch.reason, actor=principal.name
    )


@router.get(
    "/requests/{ticket}/history",
    response_model=RequestHistoryOut,
    dependencies=[Depends(require("requests.status"))],
    responses={403: {"description": "phone_last4 is missing or does not match"}},
)
def request_history(found: RequestersRequest, session: SessionDep) -> RequestHistoryOut:
    """What happened to a request, for the customer who made it: received, the team it
    went to (by name), its changes of state, passed to a supervisor, closed, rated. No
    staff notes or names, nothing personal."""
    shown = supervision.history(session, found.ticket)
    assert shown is not None  # found just now, and requests are never deleted
    return shown


@router.post(
    "/requests/{ticket}/owner",
    response_model=RequestOut,
    dependencies=[Depends(require(ASSIGN))],
    responses={
        404: {"description": "no such ticket"},
        409: {"description": "the request is closed, or with that owner already"},
        422: {"description": "no such team or staff member, or not a member of the team"},
    },
)
def set_owner(
    ticket: TicketPath,
    body: OwnerIn,
    session: SessionDep,
    principal: PrincipalDep,
    config: SettingsDep,
) -> RequestOut:
    """Give a request to another team, or to an agent of its team (or of `team`), with the
    reason (kept in the trail, never shown to the customer)."""
    if body.agent is not None:
        staff = accounts.get_user(session, username=body.agent)
        if staff is None or staff.disabled_at is not None:
            raise owners.NotInTeam(f"no active staff account {body.agent.lower()!r}")
    return service.set_owner(session, ticket, body, actor=principal.name, settings=config)


@router.get(
    "/care/teams",
    response_model=list[TeamViewOut],
    dependencies=[Depends(require(SUPERVISE))],
)
def team_views(
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=366, description="Ratings of the last days")] = 30,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[TeamViewOut]:
    """Every team's open requests past due (with their agent, and whether escalated) and
    its requests rated 2 or less in the last `days`."""
    now = clock.now()
    return supervision.team_views(session, since=now - timedelta(days=days), now=now, limit=limit)


def verify_requester(
    session: Session,
    limits: IntakeLimits,
    ticket: str,
    phone_last4: str | None,
    *,
    client: str | None,
) -> Verdict:
    """Whether the caller at `client` knows the requester's phone
    (`outage.intake.owners.verify_owner`)."""
    return verify_owner(session, limits, ticket, phone_last4, service.status_phones, client=client)


def _check_requester(
    session: Session,
    principal: Principal,
    limits: IntakeLimits,
    ticket: str,
    phone_last4: str | None,
    client: str | None,
) -> None:
    """The caller knows the requester's phone, or works the queues: else 403 with why."""
    if principal.may(WORK):
        return
    refuse_unproven(
        verify_requester(session, limits, ticket, phone_last4, client=client),
        kind="request",
        no_phone="this request has no phone number to check; customer care can tell you "
        f"where it stands, its page is /request/{ticket}",
    )
