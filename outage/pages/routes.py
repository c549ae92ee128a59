"""Customer pages: the report form (no login) and the status of a report by its ticket.

Plain HTML forms that work without JavaScript; the script only adds "use my location"
and guards against double taps. Every string comes from `outage.pages.i18n`, every
value a customer typed is escaped by Jinja's autoescape.
"""

import math
import uuid
from collections.abc import Mapping
from datetime import timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, ValidationError

from outage.api import SessionDep
from outage.auth.principal import require
from outage.care.service import is_request_ticket
from outage.intake import service
from outage.intake.enums import Channel, Hazard
from outage.intake.geocode import OutsideTerritory
from outage.intake.limits import IntakeLimits, RateLimited
from outage.intake.routes import client_ip, intake_limits, settings
from outage.intake.schemas import ReportIn, ReportStatusOut
from outage.pages import i18n
from outage.settings import Settings

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"

LOCAL_TIME = timezone(timedelta(hours=7), "ICT")
"""Vietnam keeps UTC+7 all year."""

MAX_TICKET_LENGTH = 32
TEXT_FIELDS = ("account", "phone", "address", "description")
"""Form fields whose errors a customer can fix by editing them, in the order shown."""

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(
    include_in_schema=False, tags=["pages"], dependencies=[Depends(require("pages.customer"))]
)

"""Committed before the response goes out, so the page a redirect leads to finds the row."""


def static_files() -> StaticFiles:
    """The pages' CSS and scripts, to mount at /static."""
    return StaticFiles(directory=STATIC_DIR)


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


def request_language(request: Request, requested: str | None) -> str:
    """?lang= when given, else the browser's Accept-Language, else Vietnamese."""
    return i18n.choose_language(requested, request.headers.get("accept-language"))


def customer_page(
    request: Request,
    template: str,
    language: str,
    context: Mapping[str, Any],
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    other = i18n.other_language(language)
    html = _templates.get_template(template).render(
        lang=language,
        t=i18n.strings(language),
        other_lang=other,
        other_t=i18n.strings(other),
        switch_url=f"{quote(request.url.path)}?lang={other}",
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    # The form carries a one-time token and may echo what the customer typed: never cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _hazard_options(language: str) -> list[tuple[str, str]]:
    return [("", i18n.hazard_label(language, None))] + [
        (hazard.value, i18n.hazard_label(language, hazard)) for hazard in Hazard
    ]


def _report_page(
    request: Request,
    language: str,
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
            "max_lengths": _max_lengths(),
        },
        status_code=status_code,
        headers=headers,
    )


def _max_lengths() -> dict[str, int]:
    """The schema's length limits, for the inputs' maxlength."""
    limits: dict[str, int] = {}
    for name in TEXT_FIELDS:
        for rule in ReportIn.model_fields[name].metadata:
            if getattr(rule, "max_length", None) is not None:
                limits[name] = rule.max_length
    return limits


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
    config: Annotated[Settings, Depends(settings)],
    limits: Annotated[IntakeLimits, Depends(intake_limits)],
) -> Response:
    """Store the report and go to its status page, or show the form again with the problem."""
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
                service.Submission(report, idempotency_key=_idempotency_key(form.token)),
                config,
            )
    except RateLimited as exc:
        minutes = max(1, math.ceil(exc.retry_after_s / 60))
        return _report_page(
            request,
            language,
            form,
            {"form": t["error_rate_limited"].format(minutes=minutes)},
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
    return RedirectResponse(
        f"/status/{quote(receipt.ticket, safe='')}?lang={language}",
        status_code=status.HTTP_303_SEE_OTHER,
    )


def _to_report(form: ReportForm) -> ReportIn:
    given = {
        name: value.strip()
        for name, value in form.model_dump(include={*TEXT_FIELDS, "hazard", "lat", "lon"}).items()
        if value.strip()
    }
    return ReportIn.model_validate({**given, "channel": Channel.WEB})


def _idempotency_key(token: str) -> str | None:
    """The form's one-time token as an idempotency key; None when it is not one of ours."""
    try:
        return f"web-form:{uuid.UUID(token)}"
    except ValueError:
        return None


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
        return RedirectResponse(
            f"/status/{quote(wanted, safe='')}?lang={language}",
            status_code=status.HTTP_303_SEE_OTHER,
        )
    return customer_page(request, "lookup.html", language, {})


@router.get("/status/{ticket}", response_class=HTMLResponse)
def status_page(
    ticket: str, request: Request, session: SessionDep, lang: str | None = None
) -> Response:
    """Where a report stands, without any personal data; a 404 page for unknown tickets.

    A service request's ticket leads to its own page."""
    language = request_language(request, lang)
    if is_request_ticket(ticket):
        return RedirectResponse(
            f"/request/{quote(ticket.strip().upper(), safe='')}?lang={language}",
            status_code=status.HTTP_303_SEE_OTHER,
        )
    found = service.report_status(session, ticket) if len(ticket) <= MAX_TICKET_LENGTH else None
    if found is None:
        return customer_page(
            request,
            "not_found.html",
            language,
            {"ticket": ticket[:MAX_TICKET_LENGTH]},
            status.HTTP_404_NOT_FOUND,
        )
    return customer_page(request, "status.html", language, _status_context(found, language))


def _status_context(found: ReportStatusOut, language: str) -> dict[str, Any]:
    t = i18n.strings(language)
    received = found.received_at.astimezone(LOCAL_TIME)
    return {
        "ticket": found.ticket,
        "status": found.status.value,
        "status_text": i18n.status_text(language, found.status),
        "received_iso": received.isoformat(timespec="minutes"),
        "received_text": f"{received.strftime(t['datetime_format'])} ({t['time_zone_note']})",
        "hazard_text": i18n.hazard_label(language, found.hazard) if found.hazard else None,
        "duplicate_of": found.duplicate_of,
    }
