"""`outage demo`: the whole system at work on one machine, in one command.

It starts (or reuses) the private database, makes a fresh demo database with the bundled
grid (or a SimBench grid), staff sign-ins and field crews, starts `outage serve` with the
engine, dispatch planner and notification workers, points the SMS channel and Zalo's OA
API at a local stand-in whose messages a page lists, and plays a live storm against it: faults
over time, customers reporting through the HTTP channels, meters' last gasps, crews
driving to their jobs and restoring; the first fault is on a line just below a feeder
head, and the simulated control room restores around it by the service's best
restoration plan (a switching order approved by a second member of staff, its remote
steps through the field's SCADA, its manual ones by a crew).

One clock for the whole demo: the server runs on a scaled clock (`outage.clock`) whose
epoch is the demo's start and whose speed is the storm's, and the storm and the field's
SCADA date what they post by the same clock, so ETRs, messages and pages follow the
storm's time. Ctrl-C stops everything cleanly.
"""

import math
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer

from dispatch.model import Skill
from grid_topology.model import GridModel
from outage.auth import service as auth
from outage.auth.enums import Role, Scope, SessionKind
from outage.cli.common import err, fail, resolve_database_url
from outage.cli.grid import store
from outage.cli.simulate import GridOption, load_grid, play
from outage.clock import Clock
from outage.crews import service as crews
from outage.crews.schemas import CrewIn, Point, ShiftIn
from outage.db import create_database, session_factory, session_scope
from outage.notifications.sink import ZALO_TOKEN, running_sink
from outage.settings import MAX_SPEED, get_settings
from outage.simulation import headend as ami
from outage.simulation.inbox import InboxPage
from outage.simulation.runner import StormOptions
from outage.simulation.scada import ScadaField, poster

DATABASE = "outage_demo"
"""Made afresh at every start, beside the private cluster's main database."""
STAFF = (
    ("demo-dispatcher", Role.DISPATCHER),
    ("demo-agent", Role.AGENT),
    ("demo-admin", Role.ADMIN),
    ("demo-supervisor", Role.SUPERVISOR),
)
CREW_PREFIX = "demo-crew-"
SHIFT = timedelta(hours=12)
"""Of the simulated staff's sign-ins (wall time), and of each crew shift (the demo's time):
a crew works shift after shift for a wall SHIFT."""
INBOX_PORT = 8090
SCADA_DELAY = timedelta(seconds=90)
"""How long the field's SCADA takes to operate a device a switching order commands, in the
storm's time (within `scada_command_timeout_seconds`, which the server counts in it too)."""
PING_LATENCY_S = (2.0, 60.0)
"""How long the AMI head-end takes to answer a ping, in the storm's seconds."""
START_TIMEOUT_S = 90.0
MAX_SHIFTS = 100
"""As many as a crew may be given."""


@dataclass(frozen=True)
class DemoAccess:
    password: str
    """Of every demo sign-in, new at every start."""
    api_key: str
    """The SMS/IVR gateway's and the meters' head-end key."""
    token: str
    """The simulated dispatcher's bearer token."""
    approver_token: str
    """The simulated supervisor's: approves the dispatcher's switching orders."""
    crews: list[str]
    """Crew names."""
    zalo_secret: str
    """The Zalo OA secret key the demo's webhook checks signatures with."""


def _depot(model: GridModel, index: int) -> Point:
    """Depots at the substations, or around the grid's middle when it has none."""
    if model.substations:
        lon, lat = model.substations[index % len(model.substations)].location
    else:
        lon = sum(n.location[0] for n in model.nodes) / len(model.nodes)
        lat = sum(n.location[1] for n in model.nodes) / len(model.nodes)
    return Point(lon=round(lon + 0.002 * index, 6), lat=round(lat - 0.001 * index, 6))


def _shifts(dates: Clock) -> list[ShiftIn]:
    """Back-to-back shifts from the demo's now, for a wall SHIFT (at most MAX_SHIFTS)."""
    start = dates.now().replace(microsecond=0)
    count = min(MAX_SHIFTS, math.ceil(dates.span(SHIFT) / SHIFT))
    return [
        ShiftIn(starts_at=start + i * SHIFT, ends_at=start + (i + 1) * SHIFT) for i in range(count)
    ]


def staged_environment(sms_url: str, dates: Clock) -> dict[str, str]:
    """The server settings a storm played through the API needs (the demo's, and the storm
    benchmark's): SMS to `sms_url`, no quiet hours, no practical limit per address (every
    caller comes from one), a dispatch plan every few seconds, and the storm's clock."""
    return {
        "OUTAGE_NOTIFY_SMS_URL": sms_url,
        "OUTAGE_NOTIFY_QUIET_HOURS": "00:00-00:00",
        "OUTAGE_RATE_LIMIT_PER_IP": "1000000/minute",
        "OUTAGE_DISPATCH_REPLAN_S": "5",
        "OUTAGE_DISPATCH_TIME_LIMIT_S": "2",
        **dates.environment(),
    }


def stage_access(database_url: str, model: GridModel, crew_count: int, dates: Clock) -> DemoAccess:
    """Staff sign-ins, crews on shift with their members, and a gateway key: what a storm
    played against the server through its API needs (the demo's, and the storm benchmark's)."""
    password = secrets.token_urlsafe(12)
    now = datetime.now(UTC).replace(microsecond=0)  # sign-ins last in wall time
    names = []
    with session_scope(session_factory(database_url)) as session:
        for username, role in STAFF:
            auth.create_user(session, username=username, password=password, role=role)
        for i in range(1, crew_count + 1):
            crew_id = crews.create_crew(
                session,
                CrewIn(
                    name=f"Crew {i}",
                    skills=list(Skill),
                    depot=_depot(model, i - 1),
                    vehicle=f"29C-{100 + i}",
                    shifts=_shifts(dates),
                ),
            )
            auth.create_user(
                session,
                username=f"{CREW_PREFIX}{i}",
                password=password,
                role=Role.CREW,
                crew_id=crew_id,
                display_name=f"Crew {i} lead",
            )
            names.append(f"Crew {i}")
        _, api_key = auth.create_api_key(
            session, name="demo-gateway", scopes=[Scope.CHANNELS, Scope.AMI, Scope.SCADA]
        )
        token, approver_token = (
            auth.open_session(
                session, username=username, kind=SessionKind.BEARER, now=now, lifetime=SHIFT
            ).token
            for username in (STAFF[0][0], STAFF[-1][0])
        )
    return DemoAccess(password, api_key, token, approver_token, names, secrets.token_urlsafe(16))


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@contextmanager
def _server(
    database_url: str, host: str, port: int, env: dict[str, str], log: Path
) -> Iterator[str]:
    """`outage serve` in a session of its own (Ctrl-C reaches the storm, which then stops
    the server in order); its output goes to `log`."""
    base = f"http://{host}:{port}"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "outage", "serve", "--host", host, "--port", str(port)],
            env={**os.environ, **env, "DATABASE_URL": database_url},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            with err.status("Starting the server ..."):
                while not _healthy(base):
                    if process.poll() is not None or time.monotonic() > deadline:
                        fail(f"the server did not start; its log: {log}")
                    time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def demo(
    host: Annotated[str | None, typer.Option(help="Interface the server listens on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port of the server")] = None,
    grid: GridOption = None,
    speed: Annotated[
        float,
        typer.Option(min=0.1, max=MAX_SPEED, help="Simulated seconds per second of wall time"),
    ] = 30.0,
    faults: Annotated[int, typer.Option(min=1, help="Faults per storm wave")] = 6,
    call_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of customers out who report")
    ] = 0.2,
    crew_count: Annotated[int, typer.Option("--crews", min=1, help="Field crews")] = 4,
    seed: Annotated[int, typer.Option(help="Seed of the first storm wave")] = 0,
) -> None:
    """Database, grid, server and a live storm: the one command to see the system work."""
    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    if not _port_free(host, port):
        fail(f"port {port} on {host} is in use: stop what uses it, or pass --port")
    model = load_grid(grid)
    dates = Clock(epoch=datetime.now(UTC).replace(microsecond=0), speed=speed)
    database_url = create_database(resolve_database_url(), DATABASE)
    store(model, database_url)
    access = stage_access(database_url, model, crew_count, dates)
    base = f"http://{host}:{port}"
    log = settings.data_dir.resolve() / "demo-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        running_sink() as sink,
        ScadaField(
            poster(base, access.api_key),
            delay_s=SCADA_DELAY.total_seconds() / speed,
            dates=dates,
        ) as scada,
        ami.SimulatedHeadEnd(
            ami.poster(base, access.api_key),
            latency_s=(PING_LATENCY_S[0] / speed, PING_LATENCY_S[1] / speed),
            seed=seed,
            dates=dates,
        ) as headend,
    ):
        env = {
            "OUTAGE_SCADA_COMMAND_URL": scada.url,
            "OUTAGE_AMI_HEADEND_URL": headend.url,
            "OUTAGE_ZALO_API_URL": sink.url,
            "OUTAGE_ZALO_ACCESS_TOKEN": ZALO_TOKEN,
            "OUTAGE_ZALO_OA_SECRET_KEY": access.zalo_secret,
            "OUTAGE_MAP_CACHE_SECONDS": "3",
            "OUTAGE_MAP_POLL_SECONDS": "3",
            "OUTAGE_PUBLIC_BASE_URL": base,
            **staged_environment(sink.apprise_url("sms"), dates),
        }
        receiver = settings.smtp_receiver_port
        if receiver and not _port_free(settings.smtp_receiver_host, receiver):
            env["OUTAGE_SMTP_RECEIVER_PORT"] = "0"
            receiver = 0
        inbox_port = INBOX_PORT if _port_free("127.0.0.1", INBOX_PORT) else 0
        with (
            InboxPage(
                sink.inbox, zone=settings.local_timezone, dates=dates, port=inbox_port
            ) as inbox,
            _server(database_url, host, port, env, log) as server,
        ):
            crew_logins = ", ".join(f"{CREW_PREFIX}{i}" for i in range(1, crew_count + 1))
            err.print(f"\n[bold]Outage demo is up[/] on {server} (server log: {log})")
            err.print(f"  Dispatcher map     {server}/dispatch   sign in as demo-dispatcher")
            err.print(f"  Crew page          {server}/crew       sign in as {crew_logins}")
            err.print(f"  Public outage map  {server}/map")
            err.print(f"  Report an outage   {server}/report")
            err.print(f"  Agent console      {server}/agent      sign in as demo-agent")
            err.print(f"  Switching orders   {server}/switching  approved by demo-supervisor")
            err.print(f"  Messages sent      {inbox.url}")
            err.print(f"  API documentation  {server}/docs")
            err.print(f"  Password of every demo sign-in: [bold]{access.password}[/]")
            err.print(f"  Gateway API key (SMS, IVR, meters, SCADA): {access.api_key}")
            err.print(
                f"  Zalo webhook       {server}/api/v1/channels/zalo  OA secret key "
                f"{access.zalo_secret} (replies listed with the messages sent)"
            )
            if receiver:
                err.print(f"  E-mail reports     smtp://{settings.smtp_receiver_host}:{receiver}")
            err.print("Press Ctrl-C to stop.\n")
            state = play(
                model,
                server,
                StormOptions(
                    faults=faults,
                    call_rate=call_rate,
                    seed=seed,
                    speed=speed,
                    waves=None,
                    switching=True,
                ),
                api_key=access.api_key,
                token=access.token,
                approver_token=access.approver_token,
                console=err,
                extra=lambda: [("messages sent", str(len(sink.received())))],
                headend=headend,
                dates=dates,
            )
    err.print(
        f"Stopped after {state.wave} storm waves: {len(state.faults)} faults, "
        f"{len(state.repaired)} repaired, {len(state.receipts)} customer reports, "
        f"{len(sink.received())} messages to customers; "
        f"{state.restored_by_switching} customers restored by switching before the repair, "
        f"{state.minutes_saved_at(state.sim_s):,.0f} customer-minutes saved."
    )
