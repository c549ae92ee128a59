"""`outage serve` and `outage demo`: run the service, or everything a new user needs to see it."""

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from grid_topology.geojson import read_grid
from outage.app import create_app
from outage.auth.enums import Role as StaffRole
from outage.auth.enums import Scope
from outage.cli.common import err, resolve_database_url
from outage.cli.grid import store
from outage.crews.jobs import jobs as dispatch_jobs
from outage.db import run_migrations, session_factory
from outage.intake.channels.email import start_receiver
from outage.notifications.delivery import run_workers
from outage.notifications.jobs import jobs as notification_jobs
from outage.prediction.engine import run_forever
from outage.scheduler import build_scheduler
from outage.settings import Settings, get_settings


class Role(StrEnum):
    """What this process does; API workers are stateless, so they can be many."""

    api = "api"
    engine = "engine"
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


@contextmanager
def _mail_receiver(
    database_url: str, settings: Settings, *, optional: bool
) -> Iterator[str | None]:
    """The inbound e-mail receiver beside the HTTP server; yields where it listens.

    Port 0 turns it off. When `optional`, a port in use is a warning, not a failure.
    """
    host, port = settings.smtp_receiver_host, settings.smtp_receiver_port
    controller = None
    if port:
        try:
            controller = start_receiver(host, port, session_factory(database_url), settings)
        except OSError as exc:
            if not optional:
                raise
            err.print(f"[yellow]E-mail receiver not started[/] on {host}:{port}: {exc}")
    try:
        yield f"smtp://{host}:{port}" if controller is not None else None
    finally:
        if controller is not None:
            controller.stop()


@contextmanager
def _prediction_engine(database_url: str, settings: Settings) -> Iterator[None]:
    """The prediction engine in a background thread, stopped when the server stops."""
    stop = threading.Event()
    worker = threading.Thread(
        target=run_forever,
        args=(database_url,),
        kwargs={"window": timedelta(hours=settings.incident_window_hours), "stop": stop},
        name="prediction-engine",
        daemon=True,
    )
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=10)


@contextmanager
def _background_work(database_url: str, settings: Settings) -> Iterator[None]:
    """Notification delivery workers and the periodic jobs, stopped when the server stops."""
    stop = threading.Event()
    workers = run_workers(database_url, settings, settings.notify_workers, stop)
    sessions = session_factory(database_url)
    jobs = [notification_jobs(sessions, settings), dispatch_jobs(sessions, settings)]
    scheduler = build_scheduler(sessions, settings, jobs)
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        stop.set()
        for worker in workers:
            worker.join(timeout=10)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    role: Annotated[Role, typer.Option(help="Which parts of the service to run")] = Role.all,
    workers: Annotated[int, typer.Option(min=1, help="HTTP worker processes")] = 1,
) -> None:
    """Run the HTTP API and pages, the e-mail receiver and the prediction engine."""
    settings = get_settings()
    database_url = resolve_database_url()
    run_migrations(database_url)
    if role is Role.engine:
        stop = threading.Event()
        try:
            with _background_work(database_url, settings):
                run_forever(
                    database_url, window=timedelta(hours=settings.incident_window_hours), stop=stop
                )
        except KeyboardInterrupt:
            stop.set()
        return
    mail: AbstractContextManager[str | None] = (
        _mail_receiver(database_url, settings, optional=False)
        if role is Role.all
        else nullcontext()
    )
    engine: AbstractContextManager[None] = (
        _prediction_engine(database_url, settings) if role is Role.all else nullcontext()
    )
    background: AbstractContextManager[None] = (
        _background_work(database_url, settings) if role is Role.all else nullcontext()
    )
    with mail, engine, background:
        _run(database_url, host or settings.host, port or settings.port, workers)


DEMO_STAFF = (
    ("demo-agent", StaffRole.AGENT),
    ("demo-dispatcher", StaffRole.DISPATCHER),
    ("demo-admin", StaffRole.ADMIN),
)
DEMO_GATEWAY_KEY = "demo-gateway"


def _demo_access(database_url: str) -> tuple[str, str]:
    """Sign-ins for the demo (one password, new at every start) and an SMS/IVR gateway key."""
    from outage.auth import service as auth
    from outage.db import session_scope

    password = secrets.token_urlsafe(12)
    now = datetime.now(UTC)
    with session_scope(session_factory(database_url)) as session:
        for username, role in DEMO_STAFF:
            if not auth.set_password(session, username=username, password=password):
                auth.create_user(session, username=username, password=password, role=role)
        auth.revoke_api_key(session, name=DEMO_GATEWAY_KEY, now=now)
        _, key = auth.create_api_key(session, name=DEMO_GATEWAY_KEY, scopes=[Scope.CHANNELS])
    return password, key


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
    password, gateway_key = _demo_access(database_url)
    host, port = host or settings.host, port or settings.port
    base = f"http://{host}:{port}"
    with (
        _mail_receiver(database_url, settings, optional=True) as mail,
        _prediction_engine(database_url, settings),
    ):
        err.print(f"\n[bold]Outage demo is up[/] on {base}")
        err.print(f"  Report an outage   {base}/report")
        err.print(f"  Agent console      {base}/agent")
        staff = ", ".join(name for name, _ in DEMO_STAFF)
        err.print(f"  Staff sign-in      {staff}; password {password}")
        err.print(f"  Active incidents   {base}/api/v1/incidents?status=active")
        err.print(f"  API documentation  {base}/docs")
        err.print(f"  Devices            {base}/api/v1/grid/devices")
        err.print(f"  SMS webhook        {base}/api/v1/channels/sms")
        err.print(f"  IVR webhook        {base}/api/v1/channels/ivr")
        err.print(f"  Gateway API key    X-API-Key: {gateway_key}")
        if mail:
            err.print(f"  E-mail reports     {mail} (SMTP)")
        err.print("Press Ctrl-C to stop.\n")
        _run(database_url, host, port)
