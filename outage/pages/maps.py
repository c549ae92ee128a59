"""The maps: the dispatcher's live map and its data layers, and the public outage map.

Each map is built with folium once per language (`maps.dispatcher`, `maps.public`) and
served in parts: the page, and the map's script as a file of its own (the CSP allows no
inline script). The data comes by polling GeoJSON endpoints. The public map's data is
aggregated per area, holds no personal data, and is served from a short-lived in-memory
cache, so a storm's viewers do not reach the database on every view.
"""

import json
import math
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from limits import RateLimitItem, parse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from maps import assets, dispatcher, layers, public
from maps import strings as map_strings
from maps.cache import Cached, TtlCache
from maps.page import MapPage, Tiles
from outage import clock, i18n
from outage.db import session_scope
from outage.errors import Invalid, RateLimited
from outage.fields import PhoneLast4
from outage.grid.live import LiveTopology
from outage.i18n import Language
from outage.pages import map_lookup, map_sources, plan_map
from outage.pages.crew import CAUSES
from outage.pages.staff import staff_links
from outage.rate_limits import MovingWindows
from outage.restoration import service as restoration
from outage.settings import Settings
from outage.web.deps import (
    LimitsDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    TopologyDep,
    client_ip,
    made_once,
)
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import date_style, local_zone, render_page, request_language

GEOJSON = "application/geo+json"
JAVASCRIPT = "text/javascript; charset=utf-8"

REPORTS_WINDOW = timedelta(hours=24)
"""Reports older than this are off the dispatcher's map (their incidents stay)."""
NETWORK_CACHE_S = 600.0
"""The network layer is read again when the network's version changes, or after this long."""
SCRIPT_MAX_AGE_S = 86_400
"""A map's script is linked with its version, so browsers may keep it."""
PAGE_MAX_AGE_S = 60
"""The public page holds no data (that comes from the GeoJSON), so it may be cached."""

assets.use_local_assets()

router = APIRouter(tags=["maps"])


@dataclass
class MapState:
    """Per app: the maps built so far (per language) and the caches."""

    settings: Settings
    public_data: TtlCache
    network_data: TtlCache = field(default_factory=lambda: TtlCache(NETWORK_CACHE_S))
    outline_data: TtlCache = field(default_factory=lambda: TtlCache(NETWORK_CACHE_S))
    built: dict[tuple[str, str], MapPage] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    searches: MovingWindows = field(default_factory=MovingWindows)
    read_features: tuple[str, dict[str, layers.Feature]] = ("", {})
    """The public data's features by id, as last read (with the ETag they were read from)."""

    search_limit: RateLimitItem = field(init=False)

    def __post_init__(self) -> None:
        self.search_limit = parse(self.settings.map_lookup_limit)

    def count_search(self, client: str | None) -> None:
        """One more search from `client`; RateLimited past `map_lookup_limit`."""
        if client is None:
            return
        wait = self.searches.hit(self.search_limit, "search", client)
        if wait is not None:
            raise RateLimited("address", max(1, math.ceil(wait)), doing="searches from")

    def features(self, cached: Cached) -> dict[str, layers.Feature]:
        """The public data's features by id, read once per version of it."""
        etag, features = self.read_features
        if etag != cached.etag:
            body = json.loads(cached.body)
            features = {feature["id"]: feature for feature in body["features"]}
            self.read_features = (cached.etag, features)
        return features

    @property
    def tiles(self) -> Tiles:
        return Tiles(self.settings.map_tile_url, self.settings.map_tile_attribution)

    @property
    def poll_ms(self) -> int:
        return round(self.settings.map_poll_seconds / timedelta(milliseconds=1))

    def page(self, which: str, language: Language) -> MapPage:
        """The folium map `which` ("dispatch" or "public") in `language`, built once."""
        key = (which, language)
        with self.lock:
            if key not in self.built:
                builder = dispatcher.build if which == "dispatch" else public.build
                t = map_strings.strings(language)
                self.built[key] = builder(tiles=self.tiles, poll_ms=self.poll_ms, t=t)
            return self.built[key]


async def map_state(request: Request) -> MapState:
    """The app's map state, made on first use (async: no thread for the hot path)."""
    settings: Settings = request.app.state.settings
    seconds = settings.map_cache_seconds.total_seconds()
    return made_once(request, "maps", lambda: MapState(settings, TtlCache(seconds)))


MapStateDep = Annotated[MapState, Depends(map_state)]

DISPATCH = [Depends(require("pages.dispatch"))]
PUBLIC = [Depends(require("map.public"))]


# --- pages ---------------------------------------------------------------------------------


def _strings(language: Language) -> dict[str, str]:
    return {**i18n.strings(language), **map_strings.strings(language)}


def _script(page: MapPage, cache_control: str) -> Response:
    return Response(page.script, media_type=JAVASCRIPT, headers={"Cache-Control": cache_control})


def _client_config(state: MapState, language: Language, **extra: Any) -> dict[str, Any]:
    """What the page's script needs: its words and how often to poll (JSON, not markup)."""
    return {
        "lang": language,
        "poll_ms": state.poll_ms,
        "strings": dict(map_strings.strings(language)),
        **extra,
    }


def _causes(language: Language) -> list[tuple[str, str]]:
    """The causes a dispatcher picks from: the crew page's, by their words; "unknown" is
    no cause set, so it is left out."""
    t = i18n.catalogue("crew", language)
    return [(cause, t[f"cause.{cause}"]) for cause in CAUSES if cause != "unknown"]


@router.get(
    "/dispatch",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(require("pages.dispatch", page=True))],
)
def dispatch_page(
    request: Request, staff: PrincipalDep, state: MapStateDep, lang: str | None = None
) -> HTMLResponse:
    """The dispatcher's live map, with the incidents by priority and the devices out of
    their normal state beside it."""
    language = request_language(request, lang)
    page = state.page("dispatch", language)
    script = f"/dispatch/map.js?{urlencode({'lang': language, 'v': page.version})}"
    return render_page(
        "dispatch.html",
        language,
        {
            "page": page,
            "map_script": script,
            "staff": staff,
            "staff_links": staff_links(staff, "/dispatch"),
            "date_style": date_style(language, local_zone(request)),
            "config": _client_config(
                state,
                language,
                can_act=staff.may("incidents.act"),
                can_draft=staff.may("orders.draft"),
                causes=_causes(language),
            ),
        },
        path=request.url.path,
        words=_strings,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/dispatch/map.js", include_in_schema=False, dependencies=DISPATCH)
def dispatch_script(request: Request, state: MapStateDep, lang: str | None = None) -> Response:
    """The dispatcher map's script (folium's, served as a file)."""
    page = state.page("dispatch", request_language(request, lang))
    return _script(page, f"private, max-age={SCRIPT_MAX_AGE_S}")


@router.get("/map", response_class=HTMLResponse, include_in_schema=False, dependencies=PUBLIC)
def public_page(request: Request, state: MapStateDep, lang: str | None = None) -> HTMLResponse:
    """The public outage map; phones first."""
    language = request_language(request, lang)
    page = state.page("public", language)
    script = f"/map/map.js?{urlencode({'lang': language, 'v': page.version})}"
    shades = public.bands(state.settings.map_min_customers)
    config = _client_config(state, language, shades=[[band.lowest, band.colour] for band in shades])
    return render_page(
        "map.html",
        language,
        {
            "page": page,
            "map_script": script,
            "config": config,
            "bands": shades,
            "date_style": date_style(language, local_zone(request)),
        },
        path=request.url.path,
        words=_strings,
        headers={"Cache-Control": f"public, max-age={PAGE_MAX_AGE_S}"},
    )


@router.get("/map/map.js", include_in_schema=False, dependencies=PUBLIC)
def public_script(request: Request, state: MapStateDep, lang: str | None = None) -> Response:
    """The public map's script (folium's, served as a file)."""
    page = state.page("public", request_language(request, lang))
    return _script(page, f"public, max-age={SCRIPT_MAX_AGE_S}")


# --- data ----------------------------------------------------------------------------------


def _public_body(
    sessions: sessionmaker[Session], topology: LiveTopology, settings: Settings
) -> bytes:
    now = clock.now()
    with session_scope(sessions) as session:
        network = topology.get(session)
        outages, premises = map_sources.public_outages(
            session, network, topology.energized(session)
        )
        works = map_sources.planned_works(session, network, now=now)
        bounds = map_sources.network_bounds(session)
        names = map_sources.area_names(session, [premise.premise_id for premise in premises])
    resolution, smallest = settings.map_h3_resolution, settings.map_min_customers
    cells = layers.outage_cells(
        outages, premises, resolution=resolution, min_customers=smallest, names=names
    )
    planned = layers.planned_cells(works, resolution=resolution, min_customers=smallest)
    return layers.collection(
        layers.public_features(cells, planned),
        bbox=bounds,
        updated_at=now.isoformat(timespec="seconds"),
    )


def _public_data(request: Request, state: MapState) -> Cached:
    """The public map's data from the cache, read again when stale (blocks: a thread's)."""
    app_state = request.app.state
    return state.public_data.get(
        lambda: _public_body(app_state.read_sessions.choose(), app_state.topology, state.settings)
    )


def _geojson(body: bytes, etag: str, cache_control: str, request: Request) -> Response:
    headers = {"Cache-Control": cache_control, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=GEOJSON, headers=headers)


@router.get(
    "/api/v1/map/public.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    dependencies=PUBLIC,
)
async def public_geojson(request: Request, state: MapStateDep) -> Response:
    """Customers out and the ETR per area (H3 cells), the cause when known, and when this
    was read (`updated_at`); no premise, no person. Served from a cache of a few seconds."""
    cached = state.public_data.fresh()
    if cached is None:
        cached = await run_in_threadpool(_public_data, request, state)
    max_age = round(state.settings.map_cache_seconds.total_seconds())
    return _geojson(cached.body, cached.etag, f"public, max-age={max_age}", request)


@router.get(
    "/api/v1/map/outline.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    dependencies=PUBLIC,
)
def outline_geojson(request: Request, session: ReadSessionDep, state: MapStateDep) -> Response:
    """The service territory's outline and the network's lines as one coarse shape, drawn
    under the outages so the public map reads without tiles. Changes only with imports."""
    cached = state.outline_data.get(lambda: layers.collection(map_sources.outline(session)))
    return _geojson(cached.body, cached.etag, f"public, max-age={round(NETWORK_CACHE_S)}", request)


@router.get(
    "/api/v1/map/lookup",
    response_model=map_lookup.LookupOut,
    dependencies=PUBLIC,
    responses={
        403: {"description": "a ticket with a phone, without its last four digits"},
        404: {"description": "nothing of ours there"},
        422: {"description": "neither a search nor a position, or both"},
        429: {"description": "too many searches from this address"},
    },
)
def lookup(
    request: Request,
    session: SessionDep,
    reads: ReadSessionDep,
    state: MapStateDep,
    principal: PrincipalDep,
    limits: LimitsDep,
    q: Annotated[str | None, Query(min_length=2, max_length=200)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    phone_last4: Annotated[PhoneLast4 | None, Query()] = None,
    lang: str | None = None,
) -> map_lookup.LookupOut:
    """Search the public map: `q`, an address, a ward's or a street's name, or a report's
    ticket (with `phone_last4` if it has a phone, as its status page asks), or `lat` and
    `lon`, the visitor's position. Answers the public map's areas there (`bbox`), their
    ward, and the outages the public map shows there (none: no outage known); never a
    premise, a person or an address. Rate-limited per client address. A ticket is looked
    up on the primary (a report just filed, and the phone check counts attempts); places
    may come from the read replica."""
    words = (q or "").strip()
    if (lat is None) != (lon is None) or bool(words) == (lat is not None):
        raise Invalid("give either q (an address, an area or a ticket) or both lat and lon")
    if not principal.is_staff:
        state.count_search(client_ip(request))
    language = request_language(request, lang)
    ticket = None
    found: map_lookup.Found
    if lat is not None and lon is not None:
        found, places = "position", map_lookup.by_position(reads, lat, lon)
    elif map_lookup.is_ticket(words):
        ticket, place = map_lookup.by_ticket(
            session,
            limits,
            words,
            phone_last4,
            client=client_ip(request),
            language=language,
            zone=local_zone(request),
        )
        found, places = "ticket", [place] if place else []
    else:
        found, places = map_lookup.by_words(reads, state.settings, words)
    features = state.features(_public_data(request, state))
    return map_lookup.answer(
        found, places, features, resolution=state.settings.map_h3_resolution, ticket=ticket
    )


def _staff_geojson(body: bytes) -> Response:
    return Response(body, media_type=GEOJSON)


@router.get(
    "/api/v1/map/areas.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    dependencies=DISPATCH,
)
def areas_geojson(session: SessionDep, live: TopologyDep) -> Response:
    """The area each active incident cuts off: a polygon around its premises and device."""
    features = map_sources.affected_areas(session, live.get(session), live.energized(session))
    return _staff_geojson(layers.collection(features))


@router.get(
    "/api/v1/map/reports.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    dependencies=DISPATCH,
)
def reports_geojson(session: SessionDep) -> Response:
    """Open reports of the last day where they were placed, with what the customer said
    (untrusted text: the page shows it as text)."""
    since = clock.now() - REPORTS_WINDOW
    return _staff_geojson(layers.collection(map_sources.open_reports(session, since=since)))


@router.get(
    "/api/v1/map/crews.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    dependencies=DISPATCH,
)
def crews_geojson(session: SessionDep) -> Response:
    """Every crew at its last reported position (or its depot), with its status."""
    features = map_sources.crews(session, now=clock.now())
    return _staff_geojson(layers.collection(features))


@router.get(
    "/api/v1/map/network.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    dependencies=DISPATCH,
)
def network_geojson(
    request: Request, session: SessionDep, live: TopologyDep, state: MapStateDep
) -> Response:
    """The network as it stands: line sections by the feeder feeding them and those
    without supply, devices out of their normal state, substations, and the network's
    extent (`bbox`). Read again when the network's version changes."""
    energized = live.energized(session)

    def compute() -> bytes:
        return layers.collection(
            map_sources.network(session, energized), bbox=map_sources.network_bounds(session)
        )

    cached = state.network_data.get(compute, key=energized)  # a new topology with every change
    return _geojson(cached.body, cached.etag, "private, no-cache", request)


@router.get(
    "/api/v1/map/incidents/{incident_id}/restoration-plans.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    dependencies=[Depends(require("restoration.plan"))],
)
def restoration_plans_geojson(
    incident_id: int, session: SessionDep, live: TopologyDep, config: SettingsDep
) -> Response:
    """An active outage's ranked restoration plans (`plans`, as
    `GET /api/v1/incidents/{id}/restoration-plans` answers them) and what each does on the
    map: the devices it operates, the lines it brings back by the feeder feeding them
    then, and those it leaves without supply (property `rank`). Read when the dispatcher
    opens an incident's plans, not polled."""
    network = live.views(session)
    plans = restoration.restoration_plans(
        session, incident_id, network=network, settings=config, now=clock.now()
    )
    features = plan_map.plan_features(session, network, plans)
    return _staff_geojson(layers.collection(features, plans=plans.model_dump(mode="json")))
