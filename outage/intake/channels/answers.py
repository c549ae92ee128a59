"""Wording the intake service's answers, the same on every channel that talks back."""

from collections.abc import Callable
from datetime import tzinfo

from sqlalchemy.orm import Session

from outage.i18n import LANGUAGES, Language, catalogue
from outage.intake.channels.texts import render
from outage.intake.enums import ReportStatus
from outage.intake.progress import ProgressSource, describe
from outage.intake.schemas import ReceiptOut

TicketForm = Callable[[str], str]
"""How a channel writes a ticket: as is for SMS, spelled out for speech."""


def _as_is(ticket: str) -> str:
    return ticket


def report_reply(
    receipt: ReceiptOut,
    language: Language | None,
    form: TicketForm = _as_is,
    *,
    hazard: bool = False,
) -> str:
    """What a customer hears back after reporting: their ticket and what happens next, or
    for a hazard the safety advice first of all.

    Never the earlier ticket a duplicate joins: whoever named an account or a phone need
    not be its customer."""
    if hazard:
        return hazard_reply(form(receipt.ticket), language)
    if receipt.status is ReportStatus.DUPLICATE:
        return render("report.duplicate", language, ticket=form(receipt.ticket))
    if receipt.status is ReportStatus.NEEDS_AGENT:
        return render("report.needs_agent", language, ticket=form(receipt.ticket))
    return render("report.received", language, ticket=form(receipt.ticket))


def hazard_reply(ticket: str, language: Language | None) -> str:
    """The ticket and the safety advice the report form shows next to its hazard choice."""
    if language is None:
        return " / ".join(hazard_reply(ticket, each) for each in LANGUAGES)
    safety = catalogue("pages", language)["hazard_warning"]
    return render("report.hazard", language, ticket=ticket, safety=safety)


def status_reply(
    session: Session,
    ticket: str,
    language: Language | None,
    progress: ProgressSource,
    zone: tzinfo,
    form: TicketForm = _as_is,
    *,
    personal: bool = True,
    not_yours: str = "progress.other_phone",
) -> str:
    """Where a report and its outage stand, for the customer who made it; never the
    earlier ticket a duplicate joins. `personal=False` (the asker is not known to be that
    customer): only that the ticket was received, and how its customer may ask
    (`not_yours`, the channel's words)."""
    found = progress(session, ticket)
    if found is None:
        shown = ticket if len(ticket) <= 20 else ticket[:17] + "..."
        return render("status.unknown", language, ticket=shown)
    if not personal:
        return render(not_yours, language, ticket=form(found.ticket))
    return describe(found, language, zone, form(found.ticket))
