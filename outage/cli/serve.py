"""`outage serve`: the HTTP API and pages, the e-mail receiver, the engine and its jobs."""

import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from html import escape
from typing import Annotated, Any

import typer
import uvicorn
from fastapi import FastAPI

from outage.app import create_app, preloaded
from outage.care.jobs import jobs as care_jobs
from outage.care.owners import missing_teams
from outage.cli.common import resolve_database_url
from outage.crews.jobs import jobs as dispatch_jobs
from outage.db import run_migrations, session_factory, session_scope
from outage.grid.live import shared_topology
from outage.grid.regions import unknown_substations
from outage.incidents.jobs import jobs as interruption_jobs
from outage.incidents.progress import report_progress
from outage.intake.channels.email import MailReply, SendReply, start_receiver
from outage.intake.jobs import jobs as intake_jobs
from outage.ledger.jobs import jobs as ledger_jobs
from outage.notifications.channels import Gateways, Outgoing
from outage.notifications.delivery import run_workers
from outage.notifications.enums import DeliveryChannel
from outage.notifications.jobs import jobs as notification_jobs
from outage.orders.jobs import jobs as order_jobs
from outage.prediction.engine import run_forever
from outage.prediction.hazards import open_filed_hazard
from outage.privacy.jobs import jobs as privacy_jobs
from outage.restoration.jobs import jobs as restoration_jobs
from outage.scheduler import build_scheduler
from outage.settings import Settings, get_settings


class Role(StrEnum):
    """What this process does; API workers are stateless, so they can be many."""

    api = "api"
    engine = "engine"
    all = "all"


@dataclass(frozen=True)
class Parts:
    """What one `outage serve` process runs."""

    http: bool
    """The HTTP API and pages."""
    mail: bool
    """The e-mail receiver: one per utility, so only in the process that runs it all."""
    engine: bool
    jobs: bool
    """The notification delivery workers and the periodic jobs (the planner among them)."""


def parts(role: Role, jobs: bool) -> Parts:
    """The parts of a role. `jobs=False` leaves the jobs to other processes: an engine of a
    region then holds only its region's network, not the whole one the jobs follow."""
    return Parts(
        http=role is not Role.engine,
        mail=role is Role.all,
        engine=role is not Role.api,
        jobs=jobs and role is not Role.api,
    )


def _run(database_url: str, host: str, port: int, workers: int = 1) -> None:
    """Serve in this process, or in `workers` processes that each listen on the port.

    Each worker binds a socket of its own (SO_REUSEPORT), so the kernel spreads new
    connections over them. On one shared socket (uvicorn's own workers) the first worker
    to wake accepts a whole burst of keep-alive connections and the others stay idle.
    A worker that dies stops the server, for its supervisor to restart.
    """
    settings = get_settings()
    if workers == 1:
        uvicorn.Server(
            server_config(
                preloaded(create_app(database_url)), host, port, settings, log_level="info"
            )
        ).run()
        return
    os.environ["DATABASE_URL"] = database_url  # the workers resolve no cluster of their own
    config = server_config(
        "outage.app:app_from_environment", host, port, settings, factory=True, log_level="warning"
    )
    spawn = multiprocessing.get_context("spawn")
    processes = [spawn.Process(target=_serve_worker, args=(config,)) for _ in range(workers)]
    stop = threading.Event()
    handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    try:
        for process in processes:
            process.start()
        while not stop.wait(0.5) and all(process.is_alive() for process in processes):
            pass
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=30)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    failed = [p.exitcode for p in processes if p.exitcode]
    if failed and not stop.is_set():
        raise SystemExit(f"an HTTP worker exited with status {failed[0]}")


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def server_config(
    app: FastAPI | str, host: str, port: int, settings: Settings, **options: Any
) -> uvicorn.Config:
    """uvicorn's configuration, believing X-Forwarded-For only from `trusted_proxies`.

    uvicorn's own default believes it from 127.0.0.1, so a client on the same host (or a
    proxy that passes the header on unchecked) could pick the address the per-address
    limits count.
    """
    trusted = [str(network) for network in settings.trusted_proxies]
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
        **options,
    )


def _serve_worker(config: uvicorn.Config) -> None:
    """One HTTP worker process on its own SO_REUSEPORT socket."""
    config.configure_logging()
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((config.host, config.port))
    uvicorn.Server(config).run(sockets=[sock])


def _mail_replies(settings: Settings) -> SendReply | None:
    """Replies to e-mail reports through the notifications' e-mail gateway, if there is one.

    That gateway sends HTML, so the reply's plain text goes out escaped."""
    gateways = Gateways.from_settings(settings)
    if not gateways.has(DeliveryChannel.EMAIL):
        return None

    def send(reply: MailReply) -> None:
        gateways.send(
            Outgoing(DeliveryChannel.EMAIL, reply.to, reply.subject, escape(reply.body), reply.key)
        )

    return send


@contextmanager
def _mail_receiver(database_url: str, settings: Settings) -> Iterator[str | None]:
    """The inbound e-mail receiver beside the HTTP server; yields where it listens. It
    answers status questions with the incidents' progress reader, as the SMS webhook does.

    Port 0 turns it off.
    """
    host, port = settings.smtp_receiver_host, settings.smtp_receiver_port
    sessions = session_factory(database_url)
    replies = _mail_replies(settings)
    controller = (
        start_receiver(
            host, port, sessions, settings, open_filed_hazard, replies, progress=report_progress
        )
        if port
        else None
    )
    try:
        yield f"smtp://{host}:{port}" if controller is not None else None
    finally:
        if controller is not None:
            controller.stop()


@contextmanager
def _prediction_engine(database_url: str, settings: Settings, region: int | None) -> Iterator[None]:
    """The prediction engine in a background thread, stopped when the server stops."""
    stop = threading.Event()
    worker = threading.Thread(
        target=run_forever,
        args=(database_url,),
        kwargs={"window": settings.incident_window_hours, "region": region, "stop": stop},
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
    """Notification delivery workers and the periodic jobs, stopped when the server stops.
    They follow the process's one copy of the network, as the engine and the API do: on a
    utility of a million customers a copy each would cost gigabytes."""
    stop = threading.Event()
    workers = run_workers(database_url, settings, settings.notify_workers, stop)
    sessions = session_factory(database_url)
    live = shared_topology(database_url)
    jobs = [
        notification_jobs(sessions, settings),
        care_jobs(sessions, settings),
        dispatch_jobs(sessions, settings, live),
        privacy_jobs(sessions, settings),
        order_jobs(sessions, settings),
        restoration_jobs(sessions, settings, live),
        intake_jobs(sessions, settings),
        ledger_jobs(sessions, settings),
        interruption_jobs(sessions, settings, live),
    ]
    scheduler = build_scheduler(sessions, settings, jobs)
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        stop.set()
        for worker in workers:
            worker.join(timeout=10)


def _check_teams(database_url: str, settings: Settings) -> None:
    """Refuse to start when the settings route care requests to a team there is none of."""
    with session_scope(session_factory(database_url)) as session:
        missing = missing_teams(session, settings)
    if missing:
        raise typer.BadParameter(
            f"care_default_team or care_team_by_type names no care team {missing}: "
            "add it first (`outage care-teams add`)"
        )


def _check_regions(database_url: str, settings: Settings, region: int | None) -> None:
    """Refuse to start on regions that name no substation we have, or on a region there is
    none of."""
    if region is not None and region != 0 and region not in settings.engine_regions:
        raise typer.BadParameter(
            f"no region {region}: engine_regions numbers "
            f"{sorted(settings.engine_regions) or 'none'} (and 0 holds the rest)"
        )
    with session_scope(session_factory(database_url)) as session:
        unknown = unknown_substations(session, settings.engine_regions)
    if unknown:
        raise typer.BadParameter(f"engine_regions names no substation {unknown}")


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    role: Annotated[Role, typer.Option(help="Which parts of the service to run")] = Role.all,
    workers: Annotated[int, typer.Option(min=1, help="HTTP worker processes")] = 1,
    region: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="The engine's region (`engine_regions`); without it, the first free one",
        ),
    ] = None,
    jobs: Annotated[
        bool,
        typer.Option(
            help="Run the notification workers and periodic jobs beside the engine "
            "(--no-jobs: another process runs them)"
        ),
    ] = True,
) -> None:
    """Run the HTTP API and pages, the e-mail receiver and the prediction engine."""
    settings = get_settings()
    database_url = resolve_database_url()
    run_migrations(database_url)
    _check_teams(database_url, settings)
    _check_regions(database_url, settings, region)
    run = parts(role, jobs)
    background: AbstractContextManager[None] = (
        _background_work(database_url, settings) if run.jobs else nullcontext()
    )
    if not run.http:
        stop = threading.Event()
        try:
            with background:
                run_forever(
                    database_url, window=settings.incident_window_hours, region=region, stop=stop
                )
        except KeyboardInterrupt:
            stop.set()
        return
    mail: AbstractContextManager[str | None] = (
        _mail_receiver(database_url, settings) if run.mail else nullcontext()
    )
    engine: AbstractContextManager[None] = (
        _prediction_engine(database_url, settings, region) if run.engine else nullcontext()
    )
    with mail, engine, background:
        _run(database_url, host or settings.host, port or settings.port, workers)
