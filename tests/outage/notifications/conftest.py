"""A database of its own with the sample grid, a real SMTP server (aiosmtpd), a local HTTP
SMS sink, and delivery workers wired to them."""

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.models import Customer
from outage.incidents.changes import open_incident
from outage.notifications.delivery import Round, Worker
from outage.notifications.models import Notification
from outage.notifications.sink import ZALO_TOKEN, HttpSink, running_sink
from outage.settings import Settings
from tests.conftest import Credentials, issue_credentials, own_database

TABLES = (
    "notifications, notification_events, notification_preferences, planned_outages, "
    "subscription_codes, subscription_events, subscriptions, "
    "incident_evidence, incident_events, reports"
)
"""Emptied before each test, and so are the incidents (deleted: truncating them would
cascade through crews to the staff and their sessions)."""


@pytest.fixture(scope="session")
def notify_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    """A database of these tests alone: workers fan out every event they find."""
    with own_database(database_url, "outage_notify", sample_grid) as url:
        yield url


@pytest.fixture
def sessions(notify_database: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on an empty outbox (and no incidents, reports or planned outages)."""
    with session_scope(session_factory(notify_database)) as session:
        session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        session.execute(text("DELETE FROM incidents"))
    yield session_factory(notify_database)


@pytest.fixture(scope="session")
def topology(sample_grid: GridModel) -> Topology:
    return Topology(Network.from_model(sample_grid))


@dataclass(frozen=True)
class Grid:
    """Devices of the sample grid that tests put outages on."""

    fuse: str
    """A fuse with a handful of customers."""
    other_fuse: str
    """Another fuse, below the same breaker as `fuse`."""
    breaker: str
    """The feeder head above `fuse`."""
    accounts: dict[str, frozenset[str]]
    """Accounts downstream of each of these devices."""


@pytest.fixture(scope="session")
def grid(sample_grid: GridModel, topology: Topology) -> Grid:
    counts = topology.customer_counts()
    head = sample_grid.feeders[0].head
    below = set(topology.downstream(head).devices)
    fuses = sorted(
        (d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE),
        key=lambda ref: (counts.get(ref, 0), ref),
    )
    small = [f for f in fuses if f in below and 3 <= counts.get(f, 0) <= 40]
    fuse, other = (
        small[0],
        next(f for f in small[1:] if f not in topology.upstream(small[0]).devices),
    )
    return Grid(
        fuse=fuse,
        other_fuse=other,
        breaker=head,
        accounts={ref: topology.downstream(ref).accounts for ref in (fuse, other, head)},
    )


@dataclass
class SmtpInbox:
    """What the SMTP server accepted."""

    port: int
    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox(port=_free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    with running_sink() as running:
        yield running


@pytest.fixture
def settings(notify_database: str, sink: HttpSink, smtp: SmtpInbox) -> Settings:
    """Gateways (and Zalo's API) on the sink and the SMTP server; no quiet hours, quick
    retries, a first notice sent at once (the tests of its wait set one)."""
    return Settings(
        database_url=notify_database,
        zalo_api_url=sink.url,
        zalo_access_token=ZALO_TOKEN,
        notify_sms_url=sink.apprise_url("sms"),
        notify_webhook_url=sink.apprise_url("hook"),
        notify_email_url=f"mailto://127.0.0.1:{smtp.port}?from=outage@example.com&mode=insecure",
        notify_quiet_hours=None,
        notify_backoff_seconds=0.05,
        notify_backoff_max_seconds=0.2,
        notify_first_etr_wait_minutes=0,
        notify_lease_seconds=60,
        public_base_url="https://outage.example.com",
    )


@pytest.fixture
def worker(sessions: sessionmaker[Session], settings: Settings) -> Worker:
    return Worker(sessions, settings)


Drain = Callable[..., Round]


@pytest.fixture
def drain(worker: Worker) -> Drain:
    """Run the worker until a round finds nothing to do (or `rounds` run out)."""

    def run(rounds: int = 50, *, using: Worker | None = None) -> Round:
        total = Round()
        for _ in range(rounds):
            done = (using or worker).run_once()
            if done.idle:
                break
            total = Round(
                total.expanded + done.expanded,
                total.sent + done.sent,
                total.failed + done.failed,
                total.skipped + done.skipped,
            )
        return total

    return run


@pytest.fixture
def open_outage(sessions: sessionmaker[Session]) -> Callable[..., int]:
    """Open a predicted outage on a device (committed); returns the incident id."""

    def open_(device: str, **changes: Any) -> int:
        with session_scope(sessions) as session:
            return open_incident(
                session,
                device_asset_ref=device,
                confidence=0.8,
                customers_affected=changes.pop("customers_affected", 1),
                started_at=datetime.now(UTC) - timedelta(minutes=10),
                reason="test outage",
                **changes,
            )

    return open_


def customer_ids(session: Session, accounts: frozenset[str]) -> dict[int, str]:
    return dict(
        session.execute(select(Customer.id, Customer.account).where(Customer.account.in_(accounts)))
        .tuples()
        .all()
    )


def messages_of(session: Session, incident_id: int) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.incident_id == incident_id)
            .order_by(Notification.id)
        )
    )


@pytest.fixture(scope="session")
def staff(notify_database: str) -> Credentials:
    return issue_credentials(notify_database)


@pytest.fixture
def api(
    sessions: sessionmaker[Session], settings: Settings, staff: Credentials
) -> Iterator[TestClient]:
    """The app on this database, signed in as an administrator."""
    with TestClient(
        create_app(str(settings.database_url), settings), headers=staff.staff(Role.ADMIN)
    ) as client:
        yield client
