"""`outage serve` and `outage demo`: run the service, or everything a new user needs to see it."""

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from grid_topology.geojson import read_grid
from outage.app import create_app
from outage.cli.common import err, resolve_database_url
from outage.cli.grid import store
from outage.db import run_migrations
from outage.settings import get_settings


class Role(StrEnum):
    """What this process does; API workers are stateless, so they can be many."""

    api = "api"
    all = "all"


def _run(database_url: str, host: str, port: int, workers: int = 1) -> None:
    """Serve in this process, or in `workers` processes that share the port."""
    if workers == 1:
        uvicorn.run(create_app(database_url), host=host, port=port, log_level="info")
        return
    os.environ["DATABASE_URL"] = database_url  # the workers resolve no cluster of their own
    uvicorn.run(
        "outage.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    role: Annotated[Role, typer.Option(help="Which parts of the service to run")] = Role.all,
    workers: Annotated[int, typer.Option(min=1, help="HTTP worker processes")] = 1,
) -> None:
    """Run the HTTP API and pages."""
    settings = get_settings()
    database_url = resolve_database_url()
    run_migrations(database_url)
    _run(database_url, host or settings.host, port or settings.port, workers)


def demo(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    grid: Annotated[
        Path | None, typer.Option(help="GeoJSON grid to load instead of the bundled sample")
    ] = None,
) -> None:
    """Start the database, load the sample grid and serve it: the one command to try the system."""
    settings = get_settings()
    database_url = resolve_database_url()
    run_migrations(database_url)
    store(read_grid(grid or settings.sample_grid), database_url)
    host, port = host or settings.host, port or settings.port
    base = f"http://{host}:{port}"
    err.print(f"\n[bold]Outage demo is up[/] on {base}")
    err.print(f"  API documentation  {base}/docs")
    err.print(f"  Devices            {base}/api/v1/grid/devices")
    err.print("Press Ctrl-C to stop.\n")
    _run(database_url, host, port)
