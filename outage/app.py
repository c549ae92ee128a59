"""The FastAPI application factory."""

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from outage.api import agent as agent_routes
from outage.api import auth as auth_routes
from outage.api import care as care_routes
from outage.api import channels as channel_routes
from outage.api import crews as crew_routes
from outage.api import grid as grid_routes
from outage.api import incidents as incident_routes
from outage.api import intake as intake_routes
from outage.api import media as media_routes
from outage.api import notifications as notification_routes
from outage.api import open311 as open311_routes
from outage.api import orders as order_routes
from outage.api import reliability as reliability_routes
from outage.api import restoration as restoration_routes
from outage.api import storms as storm_routes
from outage.api import transparency as transparency_routes
from outage.care import owners, sla
from outage.db import replica_session_factory, session_factory
from outage.grid.live import shared_topology
from outage.intake.limits import IntakeLimits
from outage.pages import after_action as after_action_pages
from outage.pages import agent_console as agent_console_pages
from outage.pages import alerts as alert_pages
from outage.pages import crew as crew_pages
from outage.pages import customer as page_routes
from outage.pages import feeds as feed_pages
from outage.pages import follow_up as follow_up_pages
from outage.pages import icon as icon_page
from outage.pages import maps as map_pages
from outage.pages import requests as request_pages
from outage.pages import review_queue as review_queue_pages
from outage.pages import sign_in as sign_in_pages
from outage.pages import supervisor as supervisor_pages
from outage.pages import switching as switching_pages
from outage.pages import transparency as transparency_pages
from outage.replica import ReadSessions
from outage.settings import Settings, get_settings
from outage.web.audit import AuditTrail
from outage.web.errors import install_error_handlers
from outage.web.middleware import BodySizeLimit, JsonLimits, SecurityHeaders
from outage.web.principal import require
from outage.web.published import figures_memo
from outage.web.rendering import static_files


def create_app(database_url: str, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Outage reporting and dispatch",
        version="0.1.0",
        description="Outage intake, prediction, dispatch and notification for power distribution.",
    )
    app.state.settings = settings
    app.state.sessions = session_factory(database_url)
    app.state.replica_sessions = (
        replica_session_factory(settings.database_replica_url)
        if settings.database_replica_url
        else None
    )
    app.state.read_sessions = ReadSessions(
        app.state.sessions, app.state.replica_sessions, settings.replica_max_lag_s
    )
    app.state.topology = shared_topology(database_url)
    app.state.figures = figures_memo()
    app.state.intake_limits = IntakeLimits.from_strings(
        settings.rate_limit_per_ip, settings.rate_limit_per_phone, settings.status_check_limit
    )
    sla.check_targets(settings.care_sla_hours)
    owners.check_routing(settings.care_team_by_type)
    app.add_middleware(
        JsonLimits,
        max_depth=settings.max_json_depth,
        max_items=settings.max_json_items,
        bulk_items=settings.bulk_json_items,
        bulk_paths=intake_routes.BULK_PATHS,
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        multipart_bytes=settings.max_body_bytes + settings.photo_max_bytes,
        bulk_bytes=settings.bulk_body_bytes,
        bulk_paths=intake_routes.BULK_PATHS,
    )
    app.add_middleware(AuditTrail, sessions=app.state.sessions)
    app.add_middleware(SecurityHeaders)
    install_error_handlers(app)
    sign_in_pages.install_handlers(app)
    # Intake first: a storm's reports are the busiest requests, and routers are tried in
    # order (no intake path is any other router's, so the order changes no answer).
    app.include_router(intake_routes.router)
    app.include_router(auth_routes.router)
    app.include_router(sign_in_pages.router)
    app.include_router(grid_routes.router)
    app.include_router(order_routes.router)
    app.include_router(restoration_routes.router)
    app.include_router(storm_routes.router)
    app.include_router(transparency_routes.router)
    app.include_router(transparency_pages.router)
    app.include_router(incident_routes.router)
    app.include_router(media_routes.router)
    app.include_router(channel_routes.router)
    app.include_router(open311_routes.router)
    app.include_router(agent_routes.router)
    app.include_router(agent_routes.contacts)
    app.include_router(page_routes.router)
    app.include_router(request_pages.router)
    app.include_router(agent_console_pages.router)
    app.include_router(review_queue_pages.router)
    app.include_router(crew_routes.router)
    app.include_router(notification_routes.router)
    app.include_router(follow_up_pages.router)
    app.include_router(alert_pages.router)
    app.include_router(care_routes.router)
    app.include_router(reliability_routes.router)
    app.include_router(reliability_routes.after_action_router)
    app.include_router(crew_pages.router)
    app.include_router(map_pages.router)
    app.include_router(feed_pages.router)
    app.include_router(supervisor_pages.router)
    app.include_router(after_action_pages.router)
    app.include_router(switching_pages.router)
    app.include_router(icon_page.router)
    app.mount("/static", static_files(), name="static")

    @app.get("/health", tags=["service"], dependencies=[Depends(require("service.health"))])
    def health() -> JSONResponse:
        """Liveness and database reachability, for load balancers and the demo."""
        try:
            with app.state.sessions() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app


def app_from_environment() -> FastAPI:
    """The app of an HTTP worker process that `outage serve` spawned.

    The parent found or started the database and passed DATABASE_URL on; a worker never
    starts a database of its own.
    """
    settings = get_settings()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set: HTTP workers are started by `outage serve`")
    return preloaded(create_app(settings.database_url, settings))


def preloaded(app: FastAPI) -> FastAPI:
    """The app with the network loaded, for a server about to listen. Loaded on demand, the
    network of a large utility (minutes on a million customers) would be read when the
    first request that needs it came, a crew's in the middle of a storm, holding up every
    other request of the worker meanwhile."""
    with app.state.sessions() as session:
        app.state.topology.views(session)
    return app
