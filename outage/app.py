"""The FastAPI application factory."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from outage.db import session_factory
from outage.grid import routes as grid_routes
from outage.grid.live import LiveTopology


def create_app(database_url: str) -> FastAPI:
    app = FastAPI(
        title="Outage reporting and dispatch",
        version="0.1.0",
        description="Outage intake, prediction, dispatch and notification for power distribution.",
    )
    app.state.sessions = session_factory(database_url)
    app.state.topology = LiveTopology()
    app.include_router(grid_routes.router)

    @app.get("/health", tags=["service"])
    def health() -> JSONResponse:
        """Liveness and database reachability, for load balancers and the demo."""
        try:
            with app.state.sessions() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app
