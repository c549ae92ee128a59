"""The call-centre agent console: find the caller, log their call or file their request,
add a contact to their account's alerts or stop one.

Plain HTML forms without a script, in Vietnamese or English like the customer pages.
Everything a customer typed is escaped by Jinja's autoescape, and nothing here is cached:
these pages show personal data.

Staff only: each route requires its permission (`outage.auth.matrix`); a signed-out
visitor is sent to the login page and back. Every form carries the session's CSRF token.
Agents are staff, so the customers' rate limits do not apply to them.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from outage import clock, i18n
from outage.agent import contacts as alert_contacts
from outage.agent import service as customers
from outage.agent.schemas import ContactIn, ContactOut, CustomerOut
from outage.care import service as care
from outage.care import visits
from outage.care.enums import RequestType
from outage.care.schemas import MAX_TEXT, RequestIn, RequestOut
from outage.errors import DomainError
from outage.grid.live import LiveTopology
from outage.i18n import Language
from outage.intake import service as intake
from outage.intake.enums import Channel, Hazard, ReportOutcome, ReportStatus
from outage.intake.schemas import ReportIn
from outage.notifications import service as notifications
from outage.notifications.schemas import NotificationOut
from outage.pages.customer import filled_in, form_idempotency_key
from outage.pages.staff import national_phone, normal_ticket, redirect, staff_page
from outage.prediction.hazards import open_reported_hazard
from outage.settings import Settings
from outage.web.deps import SessionDep, SettingsDep
from outage.web.principal import Principal, PrincipalDep, require
from outage.web.rendering import local_etr, local_moment, local_zone, request_language

MAX_QUERY_LENGTH = 300
"""As the lookup API allows."""
OUTAGE_HISTORY = timedelta(days=365)
MAX_NOTIFICATIONS = 10
"""Per customer card; the full history is at `GET /api/v1/notifications`."""

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


@dataclass(frozen=True)
class _CallDraft:
    """What a customer's log-call form shows: its token, what was typed, what went wrong."""

    token: str
    description: str = ""
    hazard: str = ""
    errors: list[str] = field(default_factory=list)


# --- rendering ---------------------------------------------------------------------------


def _hazard_options(language: Language) -> list[tuple[str, str]]:
    return [("", i18n.hazard_label(language, None))] + [
        (hazard.value, i18n.hazard_label(language, hazard)) for hazard in Hazard
    ]


def _max_length(model: type[BaseModel], name: str) -> int:
    for rule in model.model_fields[name].metadata:
        if getattr(rule, "max_length", None) is not None:
            return int(rule.max_length)
    raise LookupError(f"{model.__name__}.{name} has no max_length")


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
        zone=local_zone(request),
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
    config: SettingsDep,
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
            zone=config.local_timezone,
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
            if report.hazard is not None:
                open_reported_hazard(session, receipt.ticket)
    except intake.IdempotencyConflict:
        return refused(replace(draft, token=_new_token(), errors=[t["agent_error_form_used"]]))
    return redirect("/agent", {"q": form.q.strip(), "ticket": receipt.ticket, "lang": language})


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
    config: SettingsDep,
) -> Response:
    """File a service request for the caller, then back to the search with its ticket."""
    language = request_language(request, form.lang)
    t = i18n.strings(language)

    def refused(message: str) -> HTMLResponse:
        return _refused(request, session, staff, config, language, form.q, message, 422)

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
    return redirect("/agent", {"q": form.q.strip(), "ticket": receipt.ticket, "lang": language})


class ContactForm(BaseModel):
    """A contact the caller gives for their account's alerts, as posted."""

    model_config = ConfigDict(extra="ignore")

    account: str = ""
    channel: str = "sms"
    contact: str = ""
    language: str = "vi"
    q: str = ""
    lang: str = ""


class BackForm(BaseModel):
    """Where a button's post returns to: the search and the language."""

    model_config = ConfigDict(extra="ignore")

    q: str = ""
    lang: str = ""


@router.post(
    "/reports/{ticket}/visit",
    response_class=HTMLResponse,
    dependencies=[Depends(require("requests.work", page=True))],
)
def file_visit(
    ticket: str,
    request: Request,
    form: Annotated[BackForm, Form()],
    session: SessionDep,
    staff: PrincipalDep,
    config: SettingsDep,
) -> Response:
    """File the service visit a report closed as inside the premise offers, then back to
    the search with the request's ticket (the same one however often it is asked)."""
    language = request_language(request, form.lang)
    try:
        with session.begin_nested():
            receipt = visits.request_visit(session, ticket, settings=config, language=language)
    except DomainError:
        message = i18n.strings(language)["agent_visit_error"]
        return _refused(request, session, staff, config, language, form.q, message, 409)
    return redirect("/agent", {"q": form.q.strip(), "ticket": receipt.ticket, "lang": language})


@router.post(
    "/contacts",
    response_class=HTMLResponse,
    dependencies=[Depends(require("subscriptions.manage", page=True))],
)
def add_contact(
    request: Request,
    form: Annotated[ContactForm, Form()],
    session: SessionDep,
    staff: PrincipalDep,
    config: SettingsDep,
) -> Response:
    """The caller's contact follows their account (the agent vouches for it), then back."""
    language = request_language(request, form.lang)
    t = i18n.strings(language)
    try:
        given = ContactIn(
            channel=form.channel, contact=form.contact, language=form.language or language
        )
        with session.begin_nested():
            alert_contacts.add_contact(session, form.account.strip(), given, agent=staff.name)
    except (ValidationError, DomainError):
        message = t["agent_contact_error"]
        return _refused(request, session, staff, config, language, form.q, message, 422)
    return redirect("/agent", {"q": form.q.strip(), "lang": language})


@router.post(
    "/contacts/{subscription_id}/stop",
    response_class=HTMLResponse,
    dependencies=[Depends(require("subscriptions.manage", page=True))],
)
def stop_contact(
    subscription_id: int,
    request: Request,
    form: Annotated[BackForm, Form()],
    session: SessionDep,
    staff: PrincipalDep,
) -> Response:
    """The contact hears no more of the account (audited with the agent's name), then back."""
    language = request_language(request, form.lang)
    if 0 < subscription_id < 2**31:
        try:
            with session.begin_nested():
                alert_contacts.stop_contact(session, subscription_id, agent=staff.name)
        except DomainError:
            pass  # gone already: the console shows what there is
    return redirect("/agent", {"q": form.q.strip(), "lang": language})


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


def _refused(
    request: Request,
    session: Session,
    staff: Principal,
    config: Settings,
    language: Language,
    query: str,
    message: str,
    status_code: int,
) -> HTMLResponse:
    """The search page again, saying why a button's post was refused."""
    return _console_page(
        session,
        language,
        query,
        staff=staff,
        live=request.app.state.topology,
        zone=config.local_timezone,
        extra_errors=[message],
        status_code=status_code,
    )


def _console_page(
    session: Session,
    language: Language,
    query: str,
    *,
    staff: Principal,
    live: LiveTopology,
    zone: tzinfo,
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
            zone,
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
    contacts: Mapping[str, list[ContactOut]] | None
    """The contacts following each account; None when the agent may not manage them."""


def _surroundings(
    session: Session, found: Sequence[CustomerOut], *, staff: Principal, live: LiveTopology
) -> _Surroundings:
    accounts = [c.account for c in found]
    outages = customers.outages_at(
        session,
        topology=live.get(session),
        premises=sorted({c.premise.ref for c in found}),
        since=clock.now() - OUTAGE_HISTORY,
    )
    messages = (
        {
            account: notifications.history(session, account, limit=MAX_NOTIFICATIONS)
            for account in accounts
        }
        if staff.may("notifications.read")
        else None
    )
    contacts = (
        {account: alert_contacts.contacts_of(session, account) for account in accounts}
        if staff.may("subscriptions.manage")
        else None
    )
    return _Surroundings(outages, customers.open_requests(session, accounts), messages, contacts)


def _incident_row(
    incident: customers.IncidentBrief, language: Language, zone: tzinfo
) -> dict[str, Any]:
    t = i18n.strings(language)
    return {
        "id": incident.id,
        "status": incident.status.value,
        "status_text": t[f"incident_status.{incident.status}"],
        "device": incident.device,
        "started": local_moment(incident.started_at, language, zone),
        "etr": (
            local_etr(incident.etr, incident.etr_earliest, incident.etr_latest, language, zone)
            if incident.etr
            else None
        ),
        "etr_note": (
            t["agent_etr_assessing"]
            if incident.assessing_damage
            else t.get(f"agent_etr_scope_{incident.etr_scope.value}")
        ),
        "restored": (
            local_moment(incident.restored_at, language, zone) if incident.restored_at else None
        ),
    }


def _customer_card(
    customer: CustomerOut,
    draft: _CallDraft,
    language: Language,
    around: _Surroundings | None,
    zone: tzinfo,
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
        "phone_text": national_phone(customer.phone),
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
                "received": local_moment(report.received_at, language, zone),
                "inside_premise": report.outcome is ReportOutcome.INSIDE_PREMISE,
            }
            for report in customer.open_reports
        ],
        "active_outages": [_incident_row(i, language, zone) for i in outages.active]
        if outages
        else [],
        "outage_history": [_incident_row(i, language, zone) for i in outages.history]
        if outages
        else [],
        "open_requests": [
            {
                "ticket": request.ticket,
                "type_text": i18n.request_type_label(language, request.type),
                "state_text": i18n.request_state_label(language, request.state),
                "sla": request.sla.value,
                "sla_text": i18n.sla_label(language, request.sla),
                "due": local_moment(request.due_at, language, zone),
            }
            for request in (around.requests.get(customer.account, []) if around else [])
        ],
        "notifications": (
            [
                {
                    "subject": message.subject,
                    "channel_text": i18n.label(language, "delivery_channel", message.channel),
                    "status_text": i18n.label(language, "delivery_status", message.status),
                    "created": local_moment(message.created_at, language, zone),
                }
                for message in messages
            ]
            if messages is not None
            else None
        ),
        "contacts": (
            around.contacts.get(customer.account, [])
            if around and around.contacts is not None
            else None
        ),
        "form": draft,
        "request_token": _new_token(),
    }


def _confirmation(session: Session, ticket: str, language: Language) -> dict[str, str] | None:
    """The banner after logging a call, from the stored report or request (not the link)."""
    wanted = normal_ticket(ticket)
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
