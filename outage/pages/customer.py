"""Customer pages: the report form (no login) and the status of a report by its ticket.

Plain HTML forms that work without JavaScript; the script only adds "use my location"
and guards against double taps. Every string comes from `outage.i18n`, every
value a customer typed is escaped by Jinja's autoescape.
"""

import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from outage import i18n
from outage.care import visits
from outage.care.service import is_request_ticket
from outage.errors import DomainError, RateLimited
from outage.fields import PhoneLast4
from outage.i18n import Language
from outage.incidents.progress import report_progress
from outage.intake import service
from outage.intake.enums import Channel, Hazard
from outage.intake.geocode import OutsideTerritory
from outage.intake.limits import IntakeLimits
from outage.intake.owners import Verdict, verify_owner
from outage.intake.photos import add_report_photo
from outage.intake.progress import Phase, describe
from outage.intake.schemas import ReportIn, ReportStatusOut
from outage.media import errors as photo_errors
from outage.media.enums import PhotoSource
from outage.media.images import read_bounded
from outage.prediction.hazards import open_reported_hazard
from outage.settings import Settings
from outage.web.deps import LimitsDep, SessionDep, SettingsDep, client_ip
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import local_moment, local_zone, render_page, request_language

MAX_TICKET_LENGTH = 32
TEXT_FIELDS = ("account", "phone", "address", "description")
"""Form fields whose errors a customer can fix by editing them, in the order shown."""

router = APIRouter(
    include_in_schema=False, tags=["pages"], dependencies=[Depends(require("pages.customer"))]
)

"""Committed before the response goes out, so the page a redirect leads to finds the row."""


_PHONE_LAST4: TypeAdapter[str] = TypeAdapter(PhoneLast4)


class ProveForm(BaseModel):
    """The last four digits of the phone given with a ticket, which unlock its page."""

    model_config = ConfigDict(extra="ignore")

    phone_last4: str = ""
    lang: str = ""

    def digits(self) -> str | None:
        """The four digits, or None when the form holds anything else."""
        try:
            return _PHONE_LAST4.validate_python("".join(self.phone_last4.split()))
        except ValidationError:
            return None


def prove_context(action: str | None, error: str | None = None) -> dict[str, Any]:
    """The form a ticket's page shows, posting to `action`, until the caller proves the
    ticket is theirs with the phone's last four digits (None: proven, no form)."""
    return {"prove_action": action, "prove_error": error}


class ReportForm(BaseModel):
    """The report form as posted: text, checked by ReportIn so errors can be shown in place."""

    model_config = ConfigDict(extra="ignore")

    account: str = ""
    phone: str = ""
    address: str = ""
    description: str = ""
    hazard: str = ""
    lat: str = ""
    lon: str = ""
    token: str = ""
    lang: str = ""


def customer_page(
    request: Request,
    template: str,
    language: Language,
    context: Mapping[str, Any],
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    # The form carries a one-time token and may echo what the customer typed: never cache.
    return render_page(
        template,
        language,
        context,
        path=request.url.path,
        status_code=status_code,
        headers={**(headers or {}), "Cache-Control": "no-store"},
    )


def ticket_redirect(prefix: str, ticket: str, language: Language) -> RedirectResponse:
    """See Other to a ticket's page (`prefix` is /status or /request), in the language."""
    return RedirectResponse(
        f"{prefix}/{quote(ticket, safe='')}?lang={language}",
        status_code=status.HTTP_303_SEE_OTHER,
    )


def ticket_not_found(request: Request, language: Language, ticket: str) -> HTMLResponse:
    """The 404 page of a ticket no one has."""
    return customer_page(
        request,
        "not_found.html",
        language,
        {"ticket": ticket[:MAX_TICKET_LENGTH]},
        status.HTTP_404_NOT_FOUND,
    )


def rate_limited_text(exc: RateLimited, t: Mapping[str, str]) -> str:
    """The "try again in N minutes" message, rounded up to a whole minute."""
    return t["error_rate_limited"].format(minutes=max(1, math.ceil(exc.retry_after_s / 60)))


@dataclass(frozen=True)
class TicketPages:
    """The pages of one kind of ticket, which show it only to the caller who gives the last
    four digits of its phone: what differs between reports and service requests."""

    prefix: str
    """A ticket's page is `prefix/ticket`, where its digits form posts."""
    template: str
    phones_of: Callable[[Session, str], list[str]]
    """The phones whose last digits prove the ticket (`outage.intake.owners.verify_owner`)."""
    no_phone: str | None = None
    """The refusal (a text key) for a ticket with no phone; None: such a page is anyone's."""

    def unproven(
        self,
        request: Request,
        language: Language,
        ticket: str,
        error: str | None = None,
        status_code: int = status.HTTP_200_OK,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """The ticket and the form asking for the phone's digits, nothing else of it."""
        context = {
            "ticket": ticket,
            **prove_context(f"{self.prefix}/{quote(ticket, safe='')}", error),
        }
        return customer_page(request, self.template, language, context, status_code, headers)

    def prove(
        self,
        request: Request,
        session: Session,
        limits: IntakeLimits,
        language: Language,
        ticket: str,
        form: ProveForm,
        wrong: str = "prove_error",
    ) -> HTMLResponse | None:
        """None when the form's digits prove `ticket` is the caller's; else the page asking
        again: 422 for what are not four digits, 429 past the guess limit, 403 with the
        text `wrong` (or `no_phone`) for a wrong answer."""
        t = i18n.strings(language)
        digits = form.digits()
        if digits is None:
            return self.unproven(request, language, ticket, t[wrong], 422)
        try:
            verdict = verify_owner(
                session, limits, ticket, digits, self.phones_of, client=client_ip(request)
            )
        except RateLimited as exc:
            return self.unproven(
                request,
                language,
                ticket,
                rate_limited_text(exc, t),
                status.HTTP_429_TOO_MANY_REQUESTS,
                {"Retry-After": str(exc.retry_after_s)},
            )
        if verdict is Verdict.NO_PHONE and self.no_phone is not None:
            return self.unproven(request, language, ticket, t[self.no_phone], 403)
        if verdict in (Verdict.PROVEN, Verdict.NO_PHONE):
            return None
        return self.unproven(request, language, ticket, t[wrong], status.HTTP_403_FORBIDDEN)


REPORT_PAGES = TicketPages("/status", "status.html", service.status_phones)


def form_idempotency_key(form: str, token: str) -> str | None:
    """A form's one-time token as an idempotency key; None when it is not one of ours."""
    try:
        return f"{form}:{uuid.UUID(token)}"
    except ValueError:
        return None


def filled_in(form: BaseModel, names: Iterable[str]) -> dict[str, str]:
    """The named text fields that hold more than white space, stripped."""
    return {
        name: value.strip()
        for name, value in form.model_dump(include=set(names)).items()
        if value.strip()
    }


def max_lengths(model: type[BaseModel], fields: Mapping[str, str]) -> dict[str, int]:
    """The schema's length limits for the inputs' maxlength: input name -> model field."""
    limits: dict[str, int] = {}
    for name, field in fields.items():
        for rule in model.model_fields[field].metadata:
            if getattr(rule, "max_length", None) is not None:
                limits[name] = rule.max_length
    return limits


def _hazard_options(language: Language) -> list[tuple[str, str]]:
    return [("", i18n.hazard_label(language, None))] + [
        (hazard.value, i18n.hazard_label(language, hazard)) for hazard in Hazard
    ]


def _report_page(
    request: Request,
    language: Language,
    form: ReportForm,
    errors: Mapping[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    return customer_page(
        request,
        "report.html",
        language,
        {
            "values": form.model_dump(),
            "errors": dict(errors or {}),
            "hazards": _hazard_options(language),
            "max_lengths": max_lengths(ReportIn, {name: name for name in TEXT_FIELDS}),
        },
        status_code=status_code,
        headers=headers,
    )


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request, lang: str | None = None) -> HTMLResponse:
    """The empty form, with a fresh token that makes its submission idempotent."""
    language = request_language(request, lang)
    return _report_page(request, language, ReportForm(token=str(uuid.uuid4()), lang=language))


@router.post("/report", response_class=HTMLResponse)
def submit_report_form(
    request: Request,
    form: Annotated[ReportForm, Form()],
    session: SessionDep,
    config: SettingsDep,
    limits: LimitsDep,
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Store the report (with its photo, if one was chosen) and go to its status page, or
    show the form again with the problem: a photo refused leaves no report either, so the
    customer sends the form again without it or with another."""
    language = request_language(request, form.lang)
    form = form.model_copy(update={"lang": language})
    t = i18n.strings(language)
    try:
        report = _to_report(form)
    except ValidationError as exc:
        return _report_page(request, language, form, _errors(exc, form, t), 422)
    try:
        limits.check(ip=client_ip(request), phone=report.phone)
        with session.begin_nested():  # whatever a refused report wrote goes away
            receipt = service.submit_report(
                session,
                service.Submission(
                    report, idempotency_key=form_idempotency_key("web-form", form.token)
                ),
                config,
            )
            if report.hazard is not None:
                open_reported_hazard(session, receipt.ticket)
            if photo is not None and photo.filename:
                data = read_bounded(photo.file, max_bytes=config.photo_max_bytes)
                add_report_photo(
                    session, receipt.ticket, data, source=PhotoSource.WEB, settings=config
                )
    except photo_errors.REFUSALS as exc:
        return _photo_refused(request, language, form, exc)
    except RateLimited as exc:
        return _report_page(
            request,
            language,
            form,
            {"form": rate_limited_text(exc, t)},
            status.HTTP_429_TOO_MANY_REQUESTS,
            {"Retry-After": str(exc.retry_after_s)},
        )
    except OutsideTerritory:
        # Drop the fix so the customer can send the report with an address instead.
        kept = form.model_copy(update={"lat": "", "lon": ""})
        return _report_page(request, language, kept, {"location": t["error_outside"]}, 422)
    except service.IdempotencyConflict:
        fresh = form.model_copy(update={"token": str(uuid.uuid4())})
        return _report_page(request, language, fresh, {"form": t["error_already_sent"]}, 422)
    return ticket_redirect("/status", receipt.ticket, language)


def _megabytes(settings: Settings) -> str:
    return f"{settings.photo_max_bytes / 1024 / 1024:g}"


def _photo_refused(
    request: Request, language: Language, form: ReportForm, refusal: DomainError
) -> HTMLResponse:
    """The form again, the photo's problem beside it, with the refusal's status."""
    text = i18n.strings(language)[f"error_photo.{refusal.status}"]
    message = text.format(mb=_megabytes(request.app.state.settings))
    return _report_page(request, language, form, {"photo": message}, refusal.status)


def _to_report(form: ReportForm) -> ReportIn:
    given = filled_in(form, (*TEXT_FIELDS, "hazard", "lat", "lon"))
    return ReportIn.model_validate({**given, "channel": Channel.WEB})


def _errors(exc: ValidationError, form: ReportForm, t: Mapping[str, str]) -> dict[str, str]:
    """One localized message per field the customer has to fix ('form' for the whole form)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        if field == "phone" and error["type"] != "string_too_long":
            key, message = "phone", t["error_phone"]
        elif field in ("lat", "lon") or (not field and bool(form.lat) != bool(form.lon)):
            key, message = "location", t["error_location"]
        elif field == "hazard":
            key, message = "hazard", t["error_hazard"]
        elif not field:
            key, message = "form", t["error_where"]
        elif error["type"] == "string_too_long":
            key = field
            message = t["error_too_long"].format(
                field=t[f"field_{field}"], max=error.get("ctx", {}).get("max_length", "")
            )
        else:
            key = field
            message = t["error_invalid"].format(field=t.get(f"field_{field}", field))
        errors.setdefault(key, message)
    return errors


@router.get("/status", response_class=HTMLResponse)
def status_lookup(request: Request, ticket: str = "", lang: str | None = None) -> Response:
    """The "check a ticket" form; with a ticket, on to its page."""
    language = request_language(request, lang)
    wanted = "".join(ticket.split()).upper()
    if wanted:
        return ticket_redirect("/status", wanted, language)
    return customer_page(request, "lookup.html", language, {})


@router.get("/status/{ticket}", response_class=HTMLResponse)
def status_page(
    ticket: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: str | None = None,
) -> Response:
    """A report's ticket and the form asking for the phone's last four digits, as the API
    asks for them; staff who work the queue see where it stands at once (and the ticket it
    joins), and so does anyone for a report without a phone. A 404 page for
    unknown tickets; a service request's ticket leads to its own page."""
    language = request_language(request, lang)
    if is_request_ticket(ticket):
        return ticket_redirect("/request", ticket.strip().upper(), language)
    found = service.report_status(session, ticket) if len(ticket) <= MAX_TICKET_LENGTH else None
    if found is None:
        return ticket_not_found(request, language, ticket)
    if principal.may("reports.queue"):
        return _status_response(request, session, language, found)
    if not service.status_phones(session, found.ticket):
        return _status_response(request, session, language, found.for_customer())
    return REPORT_PAGES.unproven(request, language, found.ticket)


@router.post("/status/{ticket}", response_class=HTMLResponse)
def status_proven(
    ticket: str,
    request: Request,
    form: Annotated[ProveForm, Form()],
    session: SessionDep,
    limits: LimitsDep,
) -> Response:
    """Where a report stands, for the caller who gave the last four digits of its phone."""
    language = request_language(request, form.lang)
    found = service.report_status(session, ticket) if len(ticket) <= MAX_TICKET_LENGTH else None
    if found is None:
        return ticket_not_found(request, language, ticket)
    refused = REPORT_PAGES.prove(request, session, limits, language, found.ticket, form)
    return refused or _status_response(
        request, session, language, found.for_customer(), proof=form.phone_last4
    )


@router.post("/status/{ticket}/visit", response_class=HTMLResponse)
def status_visit(
    ticket: str,
    request: Request,
    form: Annotated[ProveForm, Form()],
    session: SessionDep,
    limits: LimitsDep,
    config: SettingsDep,
) -> Response:
    """A service visit for a report closed as inside the premise, asked for on its page
    (with the phone's last four digits again, when the report has a phone); the page
    again, with the visit's ticket."""
    language = request_language(request, form.lang)
    found = service.report_status(session, ticket) if len(ticket) <= MAX_TICKET_LENGTH else None
    if found is None:
        return ticket_not_found(request, language, ticket)
    if service.status_phones(session, found.ticket):
        refused = REPORT_PAGES.prove(request, session, limits, language, found.ticket, form)
        if refused is not None:
            return refused
    try:
        with session.begin_nested():
            receipt = visits.request_visit(
                session, found.ticket, settings=config, language=language
            )
    except DomainError as refusal:
        return _status_response(
            request,
            session,
            language,
            found.for_customer(),
            proof=form.phone_last4,
            status_code=refusal.status,
        )
    return _status_response(
        request, session, language, found.for_customer(), visit_ticket=receipt.ticket
    )


def _status_response(
    request: Request,
    session: Session,
    language: Language,
    found: ReportStatusOut,
    *,
    proof: str = "",
    visit_ticket: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """The report's page; one closed as inside the premise offers a service visit (the
    form carries the digits that proved the ticket, `proof`) until one is filed."""
    zone = local_zone(request)
    progress = report_progress(session, found.ticket)
    inside = progress is not None and progress.phase is Phase.INSIDE_PREMISE
    context = {
        **_status_context(found, language, zone),
        "progress_text": describe(progress, language, zone)
        if progress and progress.phase
        else None,
        "visit_action": (
            f"/status/{quote(found.ticket, safe='')}/visit"
            if inside and visit_ticket is None
            else None
        ),
        "visit_proof": proof,
        "visit_ticket": visit_ticket,
        **prove_context(None),
    }
    return customer_page(request, "status.html", language, context, status_code)


def _status_context(found: ReportStatusOut, language: Language, zone: tzinfo) -> dict[str, Any]:
    t = i18n.strings(language)
    received = local_moment(found.received_at, language, zone)
    return {
        "ticket": found.ticket,
        "status": found.status.value,
        "status_text": i18n.status_text(language, found.status),
        "received_iso": received["iso"],
        "received_text": f"{received['text']} ({t['time_zone_note']})",
        "hazard_text": i18n.hazard_label(language, found.hazard) if found.hazard else None,
        "duplicate_of": found.duplicate_of,
    }
