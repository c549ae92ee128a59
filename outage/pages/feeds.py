"""The public feeds: outages by area (JSON), CAP 1.2 alerts and an Atom feed.

For news sites, apps and alerting hubs. Like the public map's data they hold no personal
data and come from a short-lived in-memory cache: one read of the database per time-to-live
serves every feed in every language.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from maps.cache import TtlCache
from outage import clock, i18n
from outage.db import session_scope
from outage.errors import NotFound
from outage.grid.live import LiveTopology
from outage.i18n import Language
from outage.i18n.labels import label
from outage.pages import feed_sources, feed_xml
from outage.pages.feed_sources import AreaSummary, PublicSnapshot
from outage.settings import Settings
from outage.web.deps import made_once
from outage.web.principal import require
from outage.web.rendering import request_language

router = APIRouter(tags=["public feeds"], dependencies=[Depends(require("feeds.public"))])


class HazardOut(BaseModel):
    code: str
    name: str


class AreaOut(BaseModel):
    """One area (a feeder's) and its outages now."""

    name: str
    customers_out: int
    outages: int
    hazards: list[HazardOut]
    etr_earliest: datetime | None
    """The earliest estimated restoration of the area's outages."""
    etr_latest: datetime | None
    etr_unknown: bool
    """Some outage in the area has no estimate yet."""


class PublicSummary(BaseModel):
    """Customers out by area, with no premise and no person; read at `updated_at`."""

    lang: Language
    updated_at: datetime
    customers_out: int
    areas: list[AreaOut]


@dataclass
class FeedState:
    """Per app: the cached snapshot (as JSON) and what the feeds are built with."""

    settings: Settings
    snapshot: TtlCache

    @property
    def context(self) -> feed_xml.FeedContext:
        return feed_xml.FeedContext(
            sender=self.settings.feed_sender,
            base_url=self.settings.public_base_url,
            zone=self.settings.local_timezone,
            alert_customers=self.settings.feed_alert_customers,
        )

    @property
    def rules(self) -> feed_sources.FeedRules:
        return feed_sources.FeedRules(
            alert_customers=self.settings.feed_alert_customers,
            ended_window=self.settings.feed_ended_hours,
            resolution=self.settings.map_h3_resolution,
            min_customers=self.settings.map_min_customers,
        )


async def feed_state(request: Request) -> FeedState:
    """The app's feed state, made on first use."""
    settings: Settings = request.app.state.settings
    seconds = settings.map_cache_seconds.total_seconds()
    return made_once(request, "feeds", lambda: FeedState(settings, TtlCache(seconds)))


FeedStateDep = Annotated[FeedState, Depends(feed_state)]


def _read(sessions: sessionmaker[Session], topology: LiveTopology, state: FeedState) -> bytes:
    with session_scope(sessions) as session:
        picture = feed_sources.snapshot(
            session,
            topology.get(session),
            topology.energized(session),
            state.rules,
            now=clock.now(),
        )
    return picture.model_dump_json().encode()


async def _snapshot(request: Request, state: FeedState) -> PublicSnapshot:
    cached = state.snapshot.fresh()
    if cached is None:
        app_state = request.app.state

        def compute() -> bytes:
            return _read(app_state.read_sessions.choose(), app_state.topology, state)

        cached = await run_in_threadpool(state.snapshot.get, compute)
    return PublicSnapshot.model_validate_json(cached.body)


def _xml(body: bytes, media_type: str, state: FeedState) -> Response:
    max_age = round(state.settings.map_cache_seconds.total_seconds())
    return Response(
        body, media_type=media_type, headers={"Cache-Control": f"public, max-age={max_age}"}
    )


def _area(area: AreaSummary, language: Language) -> AreaOut:
    unknown = i18n.catalogue("feeds", language)["area.unknown"]
    return AreaOut(
        name=area.name or unknown,
        customers_out=area.customers_out,
        outages=area.outages,
        hazards=[
            HazardOut(code=code, name=label(language, "hazard", code)) for code in area.hazards
        ],
        etr_earliest=area.etr_earliest,
        etr_latest=area.etr_latest,
        etr_unknown=area.etr_unknown,
    )


@router.get("/api/v1/public/summary", response_model=PublicSummary)
async def summary(
    request: Request, response: Response, state: FeedStateDep, lang: str | None = None
) -> PublicSummary:
    """Customers out, outages, hazards and the range of ETRs per area (the feeder), and
    when this was read; names in `lang` (vi or en)."""
    language = request_language(request, lang)
    picture = await _snapshot(request, state)
    max_age = round(state.settings.map_cache_seconds.total_seconds())
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return PublicSummary(
        lang=language,
        updated_at=picture.updated_at,
        customers_out=sum(area.customers_out for area in picture.areas),
        areas=[_area(area, language) for area in picture.areas],
    )


@router.get(
    feed_xml.CAP_PATH,
    response_class=Response,
    responses={200: {"content": {feed_xml.ATOM_MEDIA_TYPE: {}}}},
)
async def cap_feed(request: Request, state: FeedStateDep, lang: str | None = None) -> Response:
    """The current CAP 1.2 alerts (hazards, large outages, and those just ended) as an
    Atom feed: each entry holds one CAP `alert` and links to it alone."""
    picture = await _snapshot(request, state)
    body = feed_xml.cap_index(picture, state.context, request_language(request, lang))
    return _xml(body, feed_xml.ATOM_MEDIA_TYPE, state)


@router.get(
    f"{feed_xml.CAP_PATH}/{{identifier}}",
    response_class=Response,
    responses={200: {"content": {feed_xml.CAP_MEDIA_TYPE: {}}}},
)
async def cap_alert(identifier: str, request: Request, state: FeedStateDep) -> Response:
    """One CAP 1.2 alert by its identifier, while it is current (in Vietnamese and
    English)."""
    picture = await _snapshot(request, state)
    context = state.context
    for alert in picture.alerts:
        if feed_xml.identifier(alert, context.sender) == identifier:
            return _xml(feed_xml.cap_document(alert, context), feed_xml.CAP_MEDIA_TYPE, state)
    raise NotFound("no current alert has this identifier (it may have been superseded)")


@router.get(
    feed_xml.ATOM_PATH,
    response_class=Response,
    responses={200: {"content": {feed_xml.ATOM_MEDIA_TYPE: {}}}},
)
async def atom_feed(request: Request, state: FeedStateDep, lang: str | None = None) -> Response:
    """The current hazards and large outages (and those just ended) as an Atom 1.0 feed in
    `lang`."""
    picture = await _snapshot(request, state)
    body = feed_xml.atom_feed(picture, state.context, request_language(request, lang))
    return _xml(body, feed_xml.ATOM_MEDIA_TYPE, state)
