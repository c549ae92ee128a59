"""The review queue: reports nothing placed, for an agent to place each on a premise.

Plain HTML forms without a script, in Vietnamese or English like the customer pages.
Everything a reporter typed is escaped by Jinja's autoescape, and nothing here is cached:
these pages show personal data.

Staff only: each route requires its permission (`outage.auth.matrix`); a signed-out
visitor is sent to the login page and back. Every form carries the session's CSRF token.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from outage import i18n
from outage.grid.models import Premise
from outage.i18n import Language
from outage.intake import service as intake
from outage.intake.enums import ReportStatus
from outage.intake.schemas import PlacementIn, QueuedReportOut
from outage.pages.customer import MAX_TICKET_LENGTH
from outage.pages.staff import national_phone, normal_ticket, redirect, staff_page
from outage.web.deps import SessionDep, SettingsDep
from outage.web.principal import Principal, PrincipalDep, require
from outage.web.rendering import local_moment, local_zone, request_language

QUEUE_PAGE = 50
MAX_PREMISE_LENGTH = 200

router = APIRouter(prefix="/agent", include_in_schema=False, tags=["agent pages"])


class PlacementForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    premise: str = ""
    offset: str = ""
    lang: str = ""


@dataclass(frozen=True)
class _Failed:
    """A placement that went wrong, shown on its queued report."""

    ticket: str
    premise: str
    message: str


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
        session,
        language,
        _offset(offset),
        staff=staff,
        zone=local_zone(request),
        placed=_placed(session, placed, language),
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
    config: SettingsDep,
) -> Response:
    """Place a queued report on a premise; a refusal shows the queue again with the reason."""
    language = request_language(request, form.lang)
    t = i18n.strings(language)
    offset = _offset(form.offset)
    wanted = normal_ticket(ticket)
    premise = form.premise.strip()

    def refused(message: str, code: int) -> HTMLResponse:
        failed = _Failed(wanted or "", premise[:MAX_PREMISE_LENGTH], message)
        return _queue_page(
            session,
            language,
            offset,
            staff=staff,
            zone=config.local_timezone,
            failed=failed,
            status_code=code,
        )

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
    return redirect(
        "/agent/queue", {"placed": wanted, "offset": str(offset or ""), "lang": language}
    )


def _offset(text: str) -> int:
    return int(text) if text.isdigit() and len(text) <= 9 else 0


def _placed(session: Session, ticket: str, language: Language) -> str | None:
    """The banner after a placement, from the stored report."""
    wanted = normal_ticket(ticket)
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
    language: Language,
    offset: int,
    *,
    staff: Principal,
    zone: tzinfo,
    placed: str | None = None,
    failed: _Failed | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    queued = intake.review_queue(session, limit=QUEUE_PAGE, offset=offset)
    addresses = _premise_addresses(
        session, sorted({ref for report in queued for ref in report.candidates})
    )
    items = [_queued_item(report, addresses, failed, offset, language, zone) for report in queued]
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


def _queue_url(offset: int, language: Language) -> str:
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
    language: Language,
    zone: tzinfo,
) -> dict[str, Any]:
    t = i18n.strings(language)
    said: list[tuple[str, str]] = []
    if report.account_given:
        said.append((t["field_account"], report.account_given))
    if report.phone:
        said.append((t["field_phone"], national_phone(report.phone) or report.phone))
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
        "received": local_moment(report.received_at, language, zone),
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
