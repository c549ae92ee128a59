"""What a search on the public map finds: an address (by intake's geocoder), a ward's or a
street's name, a report's ticket, or the visitor's own position, told as the public map's
areas and what the map says of them.

Never a premise: whatever is found is widened to its cells of the public map (the
answer's `bbox`), and what is said of them is the public map's own data, with its
coarsening. A ticket is its reporter's secret, so it tells what the status page tells, to
whom the status page tells it: with the last four digits of its phone, if it has one.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from maps import layers
from outage import i18n
from outage.errors import Forbidden, NotFound
from outage.i18n import Language
from outage.incidents.progress import report_progress
from outage.intake import geocode
from outage.intake import service as intake
from outage.intake.limits import IntakeLimits
from outage.intake.owners import Verdict, verify_owner
from outage.intake.progress import describe
from outage.pages import map_sources
from outage.pages.map_sources import Place
from outage.settings import Settings
from outage.tickets import TICKET_ALPHABET

REPORT_TICKET = re.compile(rf"\d{{6}}-[{TICKET_ALPHABET}]{{{intake.TICKET_SUFFIX}}}")


Found = Literal["address", "area", "ticket", "position"]
"""What a search found: an address, a named place, a ticket's report, a position."""


class NothingThere(NotFound):
    """No address, area or ticket of ours answers the search."""


class TicketUnproven(Forbidden):
    """A ticket whose phone's last four digits were not given, or not right."""


class OutsideService(NotFound):
    """A position we do not serve."""


class LookupArea(BaseModel):
    """One outage area of the public map, as its data has it."""

    id: str
    name: str | None
    customers_out: int
    since: datetime | None
    etr: datetime | None
    """When the whole area should have power again; None: being assessed."""
    etr_earliest: datetime | None
    etr_latest: datetime | None
    """The range the area's restorations likely fall in."""
    etr_partial: bool


class LookupTicket(BaseModel):
    """What the status page tells of a report."""

    ticket: str
    status: str
    status_text: str
    progress_text: str | None


class LookupOut(BaseModel):
    """Where the search found something, and the outages there."""

    found: Found
    name: str | None
    """The ward (and district) it is in, never the house."""
    bbox: tuple[float, float, float, float] | None
    """The public map's cells there (west, south, east, north): where the map goes."""
    outages: list[LookupArea]
    """The public map's outage areas there, most customers out first; none: power is on
    as far as we know."""
    ticket: LookupTicket | None = None


def is_ticket(query: str) -> bool:
    return REPORT_TICKET.fullmatch(query.strip().upper()) is not None


def by_words(session: Session, settings: Settings, query: str) -> tuple[Found, list[Place]]:
    """An address the geocoder places on one premise, else the place a name names."""
    match = geocode.locate(session, geocode.Clues(address=query), settings)
    if match.place is not None and match.place.premise_id is not None:
        return "address", map_sources.premise_places(session, [match.place.premise_id])
    folded = geocode.search_query(query, session)
    places = map_sources.named_places(session, folded) if folded else []
    if not places:
        raise NothingThere(f"no address or area of ours matches {query!r}")
    return "area", places


def by_ticket(
    session: Session,
    limits: IntakeLimits,
    ticket: str,
    phone_last4: str | None,
    *,
    client: str | None,
    language: Language,
    zone: tzinfo,
) -> tuple[LookupTicket, Place | None]:
    """The report's status as its status page tells it, and where it is."""
    wanted = ticket.strip().upper()
    found = intake.report_status(session, wanted)
    if found is None:
        raise NothingThere(f"no report with ticket {wanted!r}")
    verdict = verify_owner(
        session, limits, wanted, phone_last4, intake.status_phones, client=client
    )
    if verdict is Verdict.MISSING:
        raise TicketUnproven("give phone_last4: the last four digits of the report's phone")
    if verdict is Verdict.MISMATCH:
        raise TicketUnproven("phone_last4 does not match")
    progress = report_progress(session, wanted)
    told = LookupTicket(
        ticket=found.ticket,
        status=found.status.value,
        status_text=i18n.status_text(language, found.status),
        progress_text=describe(progress, language, zone) if progress and progress.phase else None,
    )
    return told, map_sources.report_place(session, wanted)


def by_position(session: Session, lat: float, lon: float) -> list[Place]:
    if not map_sources.inside_territory(session, lat, lon):
        raise OutsideService(f"we do not serve {lat:.4f}, {lon:.4f}")
    return [(lat, lon, "")]


def _name(places: Sequence[Place]) -> str | None:
    names = [name for _, _, address in places if (name := layers.area_name(address))]
    return max(sorted(set(names)), key=names.count) if names else None


def answer(
    found: Found,
    places: Sequence[Place],
    features: Mapping[str, layers.Feature],
    *,
    resolution: int,
    ticket: LookupTicket | None = None,
) -> LookupOut:
    """The answer over the places' cells, from the public map's features (by id)."""
    cells = layers.cells_at(((lat, lon) for lat, lon, _ in places), resolution)
    outages = [
        LookupArea.model_validate({"id": area["id"], **area["properties"]})
        for area in layers.areas_at(cells, features)
    ]
    return LookupOut(
        found=found,
        name=_name(places),
        bbox=layers.cells_bbox(cells) if cells else None,
        outages=outages,
        ticket=ticket,
    )
