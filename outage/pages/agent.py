"""The call-centre agent console: find the caller, log their call, work the review queue.

Plain HTML forms without a script, in Vietnamese or English like the customer pages.
Everything a customer or reporter typed is escaped by Jinja's autoescape, and nothing here
is cached: these pages show personal data.

Staff only: each route requires its permission (`outage.auth.matrix`); a signed-out
visitor is sent to the login page and back. Every form carries the session's CSRF token.
Agents are staff, so the customers' rate limits do not apply to them.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import phonenumbers
from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.agent import service as customers
from outage.agent.schemas import CustomerOut
from outage.api import SessionDep
from outage.auth.principal import Principal, PrincipalDep, require
from outage.care import service as care
from outage.care.enums import RequestType
from outage.care.schemas import MAX_TEXT, RequestIn, RequestOut
from outage.grid.live import LiveTopology
from outage.grid.models import Premise
from outage.intake import service as intake
from outage.intake.enums import Channel, Hazard, ReportStatus
from outage.intake.routes import settings
from outage.intake.schemas import PlacementIn, QueuedReportOut, ReportIn
from outage.notifications import service as notifications
from outage.notifications.schemas import NotificationOut
from outage.pages import i18n
from outage.pages.routes import (
    MAX_TICKET_LENGTH,
    filled_in,
    form_idempotency_key,
    local_moment,
    render_page,
    request_language,
)
from outage.settings import Settings

MAX_QUERY_LENGTH = 300
"""As the lookup API allows."""
QUEUE_PAGE = 50
OUTAGE_HISTORY = timedelta(days=365)
MAX_NOTIFICATIONS = 10
"""Per customer card; the full history is at `GET /api/v1/notifications`."""
MAX_PREMISE_LENGTH = 200

NO_STORE = {"Cache-Control": "no-store"}
"""Personal data: never cached. The other security headers are the app's (`SecurityHeaders`)."""

router = APIRouter(prefix="/agent", include_in_schema=False, tags=["agent pages"])


class CallForm(BaseModel):
    """A call logged for one customer of the search results, as posted."""

    model_config = ConfigDict(extra="ignore")

    account: str = ""
    description: str = ""
    hazard: str = ""
    token: str = ""
    q: str = ""
    lang: str = ""


class PlacementForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    premise: str = ""
    offset: str = ""
    lang: str = ""


@dataclass(frozen=True)
class _CallDraft:
    """What a customer's log-call form shows: its token, what was typed, what went wrong."""

    token: str
    description: str = ""
    hazard: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Failed:
    """A placement that went wrong, shown on its queued report."""

    ticket: str
    premise: str
    message: str


# --- rendering ---------------------------------------------------------------------------


def staff_page(
    template: str,
    language: str,
    context: Mapping[str, Any],
    *,
    path: str,
    params: Mapping[str, str],
    staff: Principal,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """A page; the language switch leads to `path` with `params`, so nothing typed is lost."""
    return render_page(
        template,
        language,
        {"staff": staff, **context},
        path=path,
        params=params,
        status_code=status_code,
        headers=NO_STORE,
    )


def _redirect(path: str, params: Mapping[str, str]) -> RedirectResponse:
    kept = {name: value for name, value in params.items() if value}
    return RedirectResponse(
        f"{path}?{urlencode(kept)}",
        status_code=status.HTTP_303_SEE_OTHER,
        headers=NO_STORE,
    )


def _national(phone: str | None) -> str | None:
    """'+84912345678' as a Vietnamese caller reads it out: '0912 345 678'."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, "VN")
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _hazard_options(language: str) -> list[tuple[str, str]]:
    return [("", i18n.hazard_label(language, None))] + [
        (hazard.value, i18n.hazard_label(language, hazard)) for hazard in Hazard
    ]


def _max_length(model: type[BaseModel], name: str) -> int:
    for rule in model.model_fields[name].metadata:
        if getattr(rule, "max_length", None) is not None:
            return int(rule.max_length)
    raise LookupError(f"{model.__name__}.{name} has no max_length")


def _normal_ticket(ticket: str) -> str | None:
    wanted = "".join(ticket.split()).upper()
    return wanted if 0 < len(wanted) <= MAX_TICKET_LENGTH else None


def _new_token() -> str:
    return str(uuid.uuid4())


# --- finding the caller and logging the call ---------------------------------------------


@router.get(
    "", response_class=HTMLResponse, dependencies=[Depends(require("customers.lookup", page=True))]
)
def console(
    request: Request,
    session: SessionDep,
    staff: PrincipalDep,
    q: str = "",
    ticket: str = "",
    lang: str | None = None,
) -> HTMLResponse:
    """The search box and the customers it finds; with `ticket`, the call just logged."""
    language = request_language(request, lang)
    return _console_page(
        session,
        language,
        q,
        staff=staff,
        live=request.app.state.topology,
        confirmation=_confirmation(session, ticket, language),
    )


@router.post(
    "/reports",
    response_class=HTMLResponse,
    dependencies=[Depends(require("reports.file", page=True))],
)
def log_call(
    request: Request,
    form: Annotated[CallForm, Form()],
    session: SessionDep,
    staff: PrincipalDep,
    config: Annotated[Settings, Depends(settings)],
) -> Response:
    """File the caller's report, then back to the search with the ticket to read out."""
    language = request_language(request, form.lang)
    t = i18n.strings(language)
    key = form_idempotency_key("agent-form", form.token)
    draft = _CallDraft(token=form.token, description=form.description, hazard=form.hazard)

    def refused(shown: _CallDraft) -> HTMLResponse:
        """The console again, the caller's draft kept under their account with the problem."""
        return _console_page(
            session,
            language,
            form.q,
            staff=staff,
            live=request.app.state.topology,
            drafts={form.account: shown},
            status_code=422,
        )

    try:
        report = _to_report(form)
    except ValidationError as exc:
        return refused(replace(draft, errors=_report_errors(exc, t)))
    if key is None:
        return refused(replace(draft, token=_new_token(), errors=[t["agent_error_form_invalid"]]))
    try:
        with session.begin_nested():  # whatever a refused report wrote goes away
            receipt = intake.submit_report(
                session, intake.Submission(report, idempotency_key=key), config
            )
    except intake.IdempotencyConflict:
        return refused(replace(draft, token=_new_token(), errors=[t["agent_error_form_used"]]))
    return _redirect("/agent", {"q": form.q.strip(), "ticket": receipt.ticket, "lang": language})


class RequestForm(BaseModel):
    """A service request filed for one customer of the search results, as posted."""

    model_config = ConfigDict(extra="ignore")

    account: str = ""
    type: str = ""
    description: str = ""
    token: str = ""
    q: str = ""
    lang: str = ""


@router.post(
    "/requests",
    response_class=HTMLResponse,
    dependencies=[Depends(require("requests.work", page=True))],
)
def file_request(
    request: Request,
    form: Annotated[RequestForm, Form()],
    session: SessionDep,
    staff: PrincipalDep,
    config: Annotated[Settings, Depends(settings)],
) -> Response:
    """File a service request for the caller, then back to the search with its ticket."""
    language = request_language(request, form.lang)
    t = i18n.strings(language)

    def refused(message: str) -> HTMLResponse:
        return _console_page(
            session,
            language,
            form.q,
            staff=staff,
            live=request.app.state.topology,
            extra_errors=[message],
            status_code=422,
        )

    key = form_idempotency_key("agent-form", form.token)
    if key is None:
        return refused(t["agent_error_form_invalid"])
    try:
        filed = RequestIn(
            type=form.type,
            account=form.account.strip() or None,
            description=form.description.strip() or None,
            channel=Channel.AGENT,
        )
    except ValidationError as exc:
        problems = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if "type" in problems:
            return refused(t["error_type"])
        if "description" in problems:
            return refused(
                t["error_too_long"].format(field=t["agent_request_description"], max=MAX_TEXT)
            )
        return refused(t["agent_error_form_invalid"])
    try:
        with session.begin_nested():
            receipt = care.submit_request(
                session, filed, settings=config, idempotency_key=f"{key}:request"
            )
    except intake.IdempotencyConflict:
        return refused(t["agent_error_form_used"])
    return _redirect("/agent", {"q": form.q.strip(), "ticket": receipt.ticket, "lang": language})


def _to_report(form: CallForm) -> ReportIn:
    given = filled_in(form, ("account", "description", "hazard"))
    return ReportIn.model_validate({**given, "channel": Channel.AGENT})


def _report_errors(exc: ValidationError, t: Mapping[str, str]) -> list[str]:
    """One message per problem an agent can fix; anything else means a broken form."""
    errors: list[str] = []
    for error in exc.errors():
        field_name = str(error["loc"][0]) if error["loc"] else ""
        if field_name == "description" and error["type"] == "string_too_long":
            message = t["error_too_long"].format(
                field=t["agent_field_description"], max=error.get("ctx", {}).get("max_length", "")
            )
        elif field_name == "hazard":
            message = t["error_hazard"]
        else:
            message = t["agent_error_form_invalid"]
        if message not in errors:
            errors.append(message)
    return errors


def _console_page(
    session: Session,
    language: str,
    query: str,
    *,
    staff: Principal,
    live: LiveTopology,
    confirmation: Mapping[str, str] | None = None,
    drafts: Mapping[str, _CallDraft] | None = None,
    extra_errors: Sequence[str] = (),
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """The search page; `drafts` keeps what was typed into a customer's form, and why not."""
    t = i18n.strings(language)
    drafts = dict(drafts or {})
    text = query.strip()
    errors = [message for draft in drafts.values() for message in draft.errors]
    errors.extend(extra_errors)
    found: list[CustomerOut] = []
    summary = ""
    if len(text) > MAX_QUERY_LENGTH:
        errors.insert(0, t["agent_search_too_long"].format(max=MAX_QUERY_LENGTH))
        status_code = 422
        text = text[:MAX_QUERY_LENGTH]
    elif text:
        found = customers.find_customers(session, query=text)
        if found:
            method = t[f"agent_by_{found[0].matched_by.value}"]
            summary = t["agent_results"].format(count=len(found), method=method)
        else:
            summary = t["agent_no_results"].format(query=text)
    around = _surroundings(session, found, staff=staff, live=live) if found else None
    cards = [
        _customer_card(
            customer,
            drafts.get(customer.account) or _CallDraft(_new_token()),
            language,
            around,
        )
        for customer in found
    ]
    return staff_page(
        "agent.html",
        language,
        {
            "query": text,
            "summary": summary,
            "customers": cards,
            "confirmation": confirmation,
            "errors": errors,
            "hazards": _hazard_options(language),
            "request_types": [
                (kind.value, i18n.request_type_label(language, kind)) for kind in RequestType
            ],
            "may_file_requests": staff.may("requests.work"),
            "max_query": MAX_QUERY_LENGTH,
            "max_description": _max_length(ReportIn, "description"),
        },
        path="/agent",
        params={"q": text},
        staff=staff,
        status_code=status_code,
    )


@dataclass(frozen=True)
class _Surroundings:
    """What the cards show beyond the customer: outages, requests, messages sent."""

    outages: Mapping[str, customers.PremiseOutages]
    requests: Mapping[str, list[RequestOut]]
    notifications: Mapping[str, list[NotificationOut]] | None
    """None when the agent may not read them."""


def _surroundings(
    session: Session, found: Sequence[CustomerOut], *, staff: Principal, live: LiveTopology
) -> _Surroundings:
    accounts = [c.account for c in found]
    outages = customers.outages_at(
        session,
        topology=live.get(session),
        premises=sorted({c.premise.ref for c in found}),
        since=datetime.now(UTC) - OUTAGE_HISTORY,
    )
    messages = (
        {
            account: notifications.history(session, account, limit=MAX_NOTIFICATIONS)
            for account in accounts
        }
        if staff.may("notifications.read")
        else None
    )
    return _Surroundings(outages, customers.open_requests(session, accounts), messages)


def _incident_row(incident: customers.IncidentBrief, t: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": incident.id,
        "status": incident.status.value,
        "status_text": t[f"incident_status_{incident.status.value}"],
        "device": incident.device,
        "started": local_moment(incident.started_at, t),
        "etr": local_moment(incident.etr, t) if incident.etr else None,
        "restored": local_moment(incident.restored_at, t) if incident.restored_at else None,
    }


def _customer_card(
    customer: CustomerOut, draft: _CallDraft, language: str, around: _Surroundings | None
) -> dict[str, Any]:
    t = i18n.strings(language)
    outages = around.outages.get(customer.premise.ref) if around else None
    messages = (
        around.notifications.get(customer.account, [])
        if around and around.notifications is not None
        else None
    )
    critical = i18n.critical_label(language, customer.critical) if customer.critical else None
    return {
        "name": customer.name,
        "account": customer.account,
        "phone": customer.phone,
        "phone_text": _national(customer.phone),
        "email": customer.email,
        "language_name": i18n.strings(customer.language)["language_name"],
        "critical": critical,
        "critical_badge": t["agent_critical_badge"].format(reason=critical) if critical else "",
        "premise": customer.premise,
        "open_reports": [
            {
                "ticket": report.ticket,
                "status": report.status.value,
                "status_text": i18n.agent_status_label(language, report.status),
                "received": local_moment(report.received_at, t),
            }
            for report in customer.open_reports
        ],
        "active_outages": [_incident_row(i, t) for i in outages.active] if outages else [],
        "outage_history": [_incident_row(i, t) for i in outages.history] if outages else [],
        "open_requests": [
            {
                "ticket": request.ticket,
                "type_text": i18n.request_type_label(language, request.type),
                "state_text": i18n.request_state_label(language, request.state),
                "sla": request.sla.value,
                "sla_text": i18n.sla_label(language, request.sla),
                "due": local_moment(request.due_at, t),
            }
            for request in (around.requests.get(customer.account, []) if around else [])
        ],
        "notifications": (
            [
                {
                    "subject": message.subject,
                    "channel": message.channel.value,
                    "status": message.status.value,
                    "created": local_moment(message.created_at, t),
                }
                for message in messages
            ]
            if messages is not None
            else None
        ),
        "form": draft,
        "request_token": _new_token(),
    }


def _confirmation(session: Session, ticket: str, language: str) -> dict[str, str] | None:
    """The banner after logging a call, from the stored report or request (not the link)."""
    wanted = _normal_ticket(ticket)
    t = i18n.strings(language)
    if wanted and care.is_request_ticket(wanted):
        filed = care.request_status(session, wanted)
        if filed is None:
            return None
        return {
            "title": t["agent_request_logged"],
            "ticket": filed.ticket,
            "status": filed.state.value,
            "text": i18n.request_type_label(language, filed.type),
        }
    found = intake.report_status(session, wanted) if wanted else None
    if found is None:
        return None
    if found.status is ReportStatus.DUPLICATE and found.duplicate_of:
        text = t["agent_logged_duplicate"].format(ticket=found.duplicate_of)
    elif found.status is ReportStatus.RECEIVED:
        text = t["agent_logged_received"]
    elif found.status is ReportStatus.NEEDS_AGENT:
        text = t["agent_logged_needs_agent"]
    else:
        text = i18n.agent_status_label(language, found.status)
    return {
        "title": t["agent_logged"],
        "ticket": found.ticket,
        "status": found.status.value,
        "text": text,
    }


# --- the review queue ----------------------------------------------------------------------


@router.get(
    "/queue",
    response_class=HTMLResponse,
    dependencies=[Depends(require("reports.queue", page=True))],
)
def queue(
    request: Request,
    session: SessionDep,
    staff: PrincipalDep,
    placed: str = "",
    offset: str = "",
    lang: str | None = None,
) -> HTMLResponse:
    """Reports no clue placed, oldest first, each with a way to place it on a premise."""
    language = request_language(request, lang)
    return _queue_page(
        session, language, _offset(offset), staff=staff, placed=_placed(session, placed, language)
    )


@router.post(
    "/queue/{ticket}/placement",
    response_class=HTMLResponse,
    dependencies=[Depends(require("reports.place", page=True))],
)
def place(
    ticket: str,
    request: Request,
    form: Annotated[PlacementForm, Form()],
    session: SessionDep,
    staff: PrincipalDep,
    config: Annotated[Settings, Depends(settings)],
) -> Response:
    """Place a queued report on a premise; a refusal shows the queue again with the reason."""
    language = request_language(request, form.lang)
    t = i18n.strings(language)
    offset = _offset(form.offset)
    wanted = _normal_ticket(ticket)
    premise = form.premise.strip()

    def refused(message: str, code: int) -> HTMLResponse:
        failed = _Failed(wanted or "", premise[:MAX_PREMISE_LENGTH], message)
        return _queue_page(session, language, offset, staff=staff, failed=failed, status_code=code)

    if wanted is None or intake.report_status(session, wanted) is None:
        shown = ticket[:MAX_TICKET_LENGTH]
        return refused(
            t["agent_error_unknown_ticket"].format(ticket=shown), status.HTTP_404_NOT_FOUND
        )
    try:
        placement = PlacementIn(premise=premise)
    except ValidationError as exc:
        too_long = any(error["type"] == "string_too_long" for error in exc.errors())
        message = (
            t["error_too_long"].format(field=t["agent_premise"], max=MAX_PREMISE_LENGTH)
            if too_long
            else t["agent_error_premise_required"]
        )
        return refused(message, 422)
    try:
        with session.begin_nested():
            intake.place_report(session, wanted, placement.premise, config)
    except intake.NotInQueue:
        return refused(
            t["agent_error_not_in_queue"].format(ticket=wanted), status.HTTP_409_CONFLICT
        )
    except intake.UnknownReference:
        return refused(
            t["agent_error_unknown_premise"].format(premise=premise[:MAX_PREMISE_LENGTH]),
            422,
        )
    return _redirect(
        "/agent/queue", {"placed": wanted, "offset": str(offset or ""), "lang": language}
    )


def _offset(text: str) -> int:
    return int(text) if text.isdigit() and len(text) <= 9 else 0


def _placed(session: Session, ticket: str, language: str) -> str | None:
    """The banner after a placement, from the stored report."""
    wanted = _normal_ticket(ticket)
    found = intake.report_status(session, wanted) if wanted else None
    if found is None:
        return None
    t = i18n.strings(language)
    if found.status is ReportStatus.DUPLICATE and found.duplicate_of:
        return t["agent_placed_duplicate"].format(ticket=found.ticket, earlier=found.duplicate_of)
    if found.status is ReportStatus.RECEIVED:
        return t["agent_placed"].format(ticket=found.ticket)
    return None


def _queue_page(
    session: Session,
    language: str,
    offset: int,
    *,
    staff: Principal,
    placed: str | None = None,
    failed: _Failed | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    queued = intake.review_queue(session, limit=QUEUE_PAGE, offset=offset)
    addresses = _premise_addresses(
        session, sorted({ref for report in queued for ref in report.candidates})
    )
    items = [_queued_item(report, addresses, failed, offset, language) for report in queued]
    return staff_page(
        "agent_queue.html",
        language,
        {
            "items": items,
            "placed": placed,
            "errors": [failed.message] if failed else [],
            "newer_url": (
                _queue_url(offset + QUEUE_PAGE, language) if len(queued) == QUEUE_PAGE else None
            ),
            "older_url": _queue_url(max(0, offset - QUEUE_PAGE), language) if offset else None,
            "max_premise": MAX_PREMISE_LENGTH,
        },
        path="/agent/queue",
        params={"offset": str(offset or "")},
        staff=staff,
        status_code=status_code,
    )


def _queue_url(offset: int, language: str) -> str:
    params = {"offset": str(offset), "lang": language} if offset else {"lang": language}
    return f"/agent/queue?{urlencode(params)}"


def _premise_addresses(session: Session, refs: Sequence[str]) -> dict[str, str]:
    """The address of each candidate premise, so the agent can tell them apart."""
    if not refs:
        return {}
    rows = session.execute(select(Premise.ref, Premise.address).where(Premise.ref.in_(refs)))
    return {ref: address for ref, address in rows.tuples()}


def _queued_item(
    report: QueuedReportOut,
    addresses: Mapping[str, str],
    failed: _Failed | None,
    offset: int,
    language: str,
) -> dict[str, Any]:
    t = i18n.strings(language)
    said: list[tuple[str, str]] = []
    if report.account_given:
        said.append((t["field_account"], report.account_given))
    if report.phone:
        said.append((t["field_phone"], _national(report.phone) or report.phone))
    if report.email:
        said.append((t["agent_email"], report.email))
    if report.address_given:
        said.append((t["field_address"], report.address_given))
    if report.lat is not None and report.lon is not None:
        said.append((t["agent_location"], f"{report.lat:.6f}, {report.lon:.6f}"))
    clue = report.account_given or report.phone or report.address_given
    mine = failed if failed is not None and failed.ticket == report.ticket else None
    return {
        "ticket": report.ticket,
        "channel_text": i18n.channel_label(language, report.channel),
        "received": local_moment(report.received_at, t),
        "said": said,
        "description": report.description,
        "hazard_text": i18n.hazard_label(language, report.hazard) if report.hazard else None,
        "lookup_url": f"/agent?{urlencode({'q': clue, 'lang': language})}" if clue else None,
        "placement_url": f"/agent/queue/{quote(report.ticket, safe='')}/placement",
        "candidates": [
            {
                "ref": ref,
                "address": addresses.get(ref),
                "label": t["agent_place_on"].format(ticket=report.ticket, premise=ref),
            }
            for ref in report.candidates
        ],
        "offset": str(offset or ""),
        "error": mine.message if mine else None,
        "premise_value": mine.premise if mine else "",
    }
