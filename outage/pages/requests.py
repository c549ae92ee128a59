"""Customer pages of service requests: the request form (no login), a request's status by
its ticket, and the satisfaction rating once it is closed.

Like the report pages: plain HTML forms that work without a script, every word from
`outage.i18n`, every value a customer typed escaped by Jinja's autoescape, a
one-time token that makes a submission idempotent. A request's page, like the API, asks for
the last four digits of the requester's phone before it shows where the request stands
(back-office staff need none), and rating asks for them again.
"""

import uuid
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from outage import i18n
from outage.api.care import WORK
from outage.care import service, supervision
from outage.care.enums import RequestType
from outage.care.schemas import (
    MAX_COMMENT,
    HistoryEntryOut,
    HistoryStep,
    RatingIn,
    RequestIn,
    RequestStatusOut,
)
from outage.errors import RateLimited
from outage.i18n import Language
from outage.intake.enums import Channel
from outage.intake.geocode import OutsideTerritory
from outage.intake.service import IdempotencyConflict
from outage.pages.customer import (
    MAX_TICKET_LENGTH,
    ProveForm,
    TicketPages,
    customer_page,
    filled_in,
    form_idempotency_key,
    max_lengths,
    prove_context,
    rate_limited_text,
    ticket_not_found,
    ticket_redirect,
)
from outage.web.deps import LimitsDep, SessionDep, SettingsDep, client_ip
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import local_moment, local_zone, request_language

MODEL_FIELDS = {
    "account": "account",
    "phone": "phone",
    "address": "address",
    "details": "description",
}
"""Inputs a customer types, in the order shown, and the fields of RequestIn they fill."""

router = APIRouter(
    include_in_schema=False, tags=["pages"], dependencies=[Depends(require("pages.customer"))]
)

REQUEST_PAGES = TicketPages(
    "/request", "request_status.html", service.status_phones, no_phone="rating_error_no_phone"
)


class RequestForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = ""
    account: str = ""
    phone: str = ""
    address: str = ""
    details: str = ""
    token: str = ""
    lang: str = ""


class RatingForm(ProveForm):
    rating: str = ""
    comment: str = ""


def _form_page(
    request: Request,
    language: Language,
    form: RequestForm,
    errors: Mapping[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    return customer_page(
        request,
        "request.html",
        language,
        {
            "values": form.model_dump(),
            "errors": dict(errors or {}),
            "types": [(k.value, i18n.request_type_label(language, k)) for k in RequestType],
            "max_lengths": max_lengths(RequestIn, MODEL_FIELDS),
        },
        status_code=status_code,
        headers=headers,
    )


@router.get("/request", response_class=HTMLResponse)
def request_form(request: Request, lang: str | None = None) -> HTMLResponse:
    language = request_language(request, lang)
    return _form_page(request, language, RequestForm(token=str(uuid.uuid4()), lang=language))


@router.post("/request", response_class=HTMLResponse)
def submit_request_form(
    request: Request,
    form: Annotated[RequestForm, Form()],
    session: SessionDep,
    config: SettingsDep,
    limits: LimitsDep,
) -> Response:
    """Store the request and go to its page, or show the form again with the problem."""
    language = request_language(request, form.lang)
    form = form.model_copy(update={"lang": language})
    t = i18n.strings(language)
    try:
        filed = _to_request(form)
    except ValidationError as exc:
        return _form_page(request, language, form, _errors(exc, t), 422)
    try:
        limits.check(ip=client_ip(request), phone=filed.phone)
        with session.begin_nested():
            receipt = service.submit_request(
                session,
                filed,
                settings=config,
                language=language,
                idempotency_key=form_idempotency_key("web-request", form.token),
            )
    except RateLimited as exc:
        return _form_page(
            request,
            language,
            form,
            {"form": rate_limited_text(exc, t)},
            status.HTTP_429_TOO_MANY_REQUESTS,
            {"Retry-After": str(exc.retry_after_s)},
        )
    except OutsideTerritory:
        return _form_page(request, language, form, {"form": t["error_outside"]}, 422)
    except IdempotencyConflict:
        fresh = form.model_copy(update={"token": str(uuid.uuid4())})
        return _form_page(request, language, fresh, {"form": t["error_already_sent"]}, 422)
    return ticket_redirect("/request", receipt.ticket, language)


def _to_request(form: RequestForm) -> RequestIn:
    given = {MODEL_FIELDS[name]: value for name, value in filled_in(form, MODEL_FIELDS).items()}
    return RequestIn.model_validate({**given, "type": form.type, "channel": Channel.WEB})


def _errors(exc: ValidationError, t: Mapping[str, str]) -> dict[str, str]:
    """One localized message per field the customer has to fix ('form' for the whole)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        key = "details" if name == "description" else name
        if key == "type":
            message = t["error_type"]
        elif key == "phone" and error["type"] != "string_too_long":
            message = t["error_phone"]
        elif not key:
            key, message = "form", t["error_request_who"]
        elif error["type"] == "string_too_long":
            message = t["error_too_long"].format(
                field=t[f"field_{key}"], max=error.get("ctx", {}).get("max_length", "")
            )
        else:
            message = t["error_invalid"].format(field=t.get(f"field_{key}", key))
        errors.setdefault(key, message)
    return errors


# --- a request's page, and its rating ---------------------------------------------------


def _history_text(entry: HistoryEntryOut, language: Language, t: Mapping[str, str]) -> str:
    """One step of the request's history in words: a team by its name, never a person."""
    state = i18n.request_state_label(language, entry.state) if entry.state else ""
    match entry.step:
        case HistoryStep.RECEIVED:
            return t["history_received"]
        case HistoryStep.ASSIGNED:
            return t["history_assigned"].format(team=entry.team or "")
        case HistoryStep.ESCALATED:
            return t["history_escalated"].format(team=entry.team or "")
        case HistoryStep.CLOSED:
            return t["history_closed"].format(state=state)
        case HistoryStep.RATED:
            return t["history_rated"].format(rating=entry.rating)
    return t["history_state"].format(state=state)


def _status_page(
    request: Request,
    session: Session,
    language: Language,
    found: RequestStatusOut,
    *,
    rating_error: str | None = None,
    form: RatingForm | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    t = i18n.strings(language)
    zone = local_zone(request)
    shown = supervision.history(session, found.ticket)
    history = [
        {"at": local_moment(entry.at, language, zone), "text": _history_text(entry, language, t)}
        for entry in (shown.entries if shown else [])
    ]
    return customer_page(
        request,
        "request_status.html",
        language,
        {
            "ticket": found.ticket,
            "state": found.state.value,
            "type_text": i18n.request_type_label(language, found.type),
            "state_text": i18n.request_state_label(language, found.state),
            "received": local_moment(found.received_at, language, zone),
            "due": local_moment(found.due_at, language, zone),
            "closed": local_moment(found.closed_at, language, zone) if found.closed_at else None,
            "rejection_reason": found.rejection_reason,
            "rating": found.rating,
            "can_rate": found.can_rate,
            "rating_error": rating_error,
            "rating_values": (form or RatingForm()).model_dump(),
            "scores": [(str(n), t[f"rating_{n}"]) for n in range(5, 0, -1)],
            "max_comment": MAX_COMMENT,
            "history": history,
            **prove_context(None),
        },
        status_code=status_code,
    )


def _find(session: Session, ticket: str) -> RequestStatusOut | None:
    return service.request_status(session, ticket) if len(ticket) <= MAX_TICKET_LENGTH else None


@router.get("/request/{ticket}", response_class=HTMLResponse)
def request_page(
    ticket: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: str | None = None,
) -> HTMLResponse:
    """The ticket and the form asking for the requester's phone digits; back-office staff
    see where it stands at once."""
    language = request_language(request, lang)
    found = _find(session, ticket)
    if found is None:
        return ticket_not_found(request, language, ticket)
    if principal.may(WORK):
        return _status_page(request, session, language, found)
    return REQUEST_PAGES.unproven(request, language, found.ticket)


@router.post("/request/{ticket}", response_class=HTMLResponse)
def request_proven(
    ticket: str,
    request: Request,
    form: Annotated[ProveForm, Form()],
    session: SessionDep,
    limits: LimitsDep,
) -> HTMLResponse:
    """Where a request stands, and the rating form once closed, for the caller who gave
    the last four digits of its phone."""
    language = request_language(request, form.lang)
    found = _find(session, ticket)
    if found is None:
        return ticket_not_found(request, language, ticket)
    refused = REQUEST_PAGES.prove(request, session, limits, language, found.ticket, form)
    return refused or _status_page(request, session, language, found)


@router.post("/request/{ticket}/rating", response_class=HTMLResponse)
def rate(
    ticket: str,
    request: Request,
    form: Annotated[RatingForm, Form()],
    session: SessionDep,
    limits: LimitsDep,
) -> Response:
    """The customer's rating: proven by their phone digits, once, after closing. Until
    the digits are right the page shows nothing of the request."""
    language = request_language(request, form.lang)
    t = i18n.strings(language)
    found = _find(session, ticket)
    if found is None:
        return ticket_not_found(request, language, ticket)
    unproven = REQUEST_PAGES.prove(
        request, session, limits, language, found.ticket, form, wrong="rating_error_phone"
    )
    if unproven is not None:
        return unproven

    def refused(message: str, code: int) -> HTMLResponse:
        return _status_page(
            request, session, language, found, rating_error=message, form=form, status_code=code
        )

    try:
        rating = RatingIn.model_validate(
            {"rating": form.rating, "comment": form.comment.strip() or None}
        )
    except ValidationError:
        return refused(t["rating_error_invalid"].format(max=MAX_COMMENT), 422)
    if not found.can_rate:
        return refused(t["rating_error_closed"], status.HTTP_409_CONFLICT)
    try:
        rated = service.rate_request(
            session, found.ticket, rating=rating.rating, comment=rating.comment
        )
    except service.NotRatable:
        return refused(t["rating_error_closed"], status.HTTP_409_CONFLICT)
    # The page itself, not a redirect to it: without the digits it would show nothing.
    return _status_page(request, session, language, rated)
