"""A database of the channels' own holding the sample grid, a client on it, and customers.

These tests file many reports; on a database of their own they cannot turn another
suite's first report into a duplicate, nor theirs into ours.
"""

import smtplib
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text

from grid_topology.model import GridModel
from outage.app import create_app
from outage.auth.enums import Scope
from outage.db import session_factory, session_scope
from outage.incidents.progress import report_progress
from outage.intake.channels.email import MailReply, start_receiver
from outage.notifications.sink import ZALO_TOKEN, HttpSink, running_sink
from outage.prediction.hazards import open_filed_hazard
from outage.settings import Settings, get_settings
from tests.conftest import issue_credentials, own_database


@dataclass(frozen=True)
class Person:
    account: str
    phone: str
    email: str | None
    language: str
    premise: str


@pytest.fixture(scope="package")
def channels_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_channels", sample_grid) as url:
        yield url


@pytest.fixture(scope="package")
def channels_settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="package")
def gateway_headers(channels_database: str) -> dict[str, str]:
    """The SMS gateway's and IVR's API key (scope `channels`)."""
    return issue_credentials(channels_database, roles=[], scopes=[Scope.CHANNELS]).key(
        Scope.CHANNELS
    )


@pytest.fixture(scope="package")
def channels_client(
    channels_database: str, channels_settings: Settings, gateway_headers: dict[str, str]
) -> Iterator[TestClient]:
    app = create_app(channels_database, channels_settings)
    with TestClient(app, headers=gateway_headers) as client:
        yield client


@pytest.fixture(scope="package")
def _people_seen() -> set[str]:
    return set()


@pytest.fixture
def person(channels_database: str, _people_seen: set[str]) -> Callable[..., Person]:
    """A customer no other test used: `person(email=True, language="en")` to choose."""

    def make(*, email: bool = False, language: str | None = None) -> Person:
        with session_scope(session_factory(channels_database)) as session:
            for offset in count(start=len(_people_seen)):
                row = session.execute(
                    text(
                        "SELECT c.account, c.phone, c.email, c.language, p.ref AS premise"
                        " FROM customers c JOIN premises p ON p.id = c.premise_id"
                        " ORDER BY c.id OFFSET :offset LIMIT 1"
                    ),
                    {"offset": offset},
                ).one()
                if row.account in _people_seen:
                    continue
                if (email and not row.email) or (language and row.language != language):
                    continue
                _people_seen.add(row.account)
                return Person(**row._mapping)
        raise AssertionError("unreachable")

    return make


@pytest.fixture
def report_row(channels_database: str) -> Callable[[str], dict[str, Any]]:
    """The stored report with this ticket, as a dict of its columns (and its premise ref)."""

    def find(ticket: str) -> dict[str, Any]:
        with session_scope(session_factory(channels_database)) as session:
            row = session.execute(
                text(
                    "SELECT r.*, p.ref AS premise FROM reports r"
                    " LEFT JOIN premises p ON p.id = r.premise_id WHERE r.ticket = :ticket"
                ),
                {"ticket": ticket},
            ).one()
            return dict(row._mapping)

    return find


@pytest.fixture
def count_reports(channels_database: str) -> Callable[[str], int]:
    """How many reports carry this idempotency key."""

    def counted(key: str) -> int:
        with session_scope(session_factory(channels_database)) as session:
            found = session.scalar(
                text("SELECT count(*) FROM reports WHERE idempotency_key = :key"), {"key": key}
            )
            return int(found or 0)

    return counted


@pytest.fixture
def unknown_phone(channels_database: str) -> Callable[[], str]:
    """A valid Vietnamese mobile number that no customer and no report has."""

    def make() -> str:
        with session_scope(session_factory(channels_database)) as session:
            while True:
                phone = f"+8490{uuid.uuid4().int % 10_000_000:07d}"
                taken = session.scalar(
                    text(
                        "SELECT (SELECT count(*) FROM customers WHERE phone = :phone)"
                        " + (SELECT count(*) FROM reports WHERE phone = :phone)"
                    ),
                    {"phone": phone},
                )
                if not taken:
                    return phone

    return make


MAX_BYTES = 32 * 1024
CARE_MAILBOX = "baomatdien@example.com"


def _receiver(
    database: str, settings: Settings, replies: list[MailReply] | None = None
) -> Iterator[int]:
    """A receiver wired as `outage serve` wires it, its replies kept in `replies`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sessions = session_factory(database)
    send = replies.append if replies is not None else None
    controller = start_receiver(
        "127.0.0.1", port, sessions, settings, open_filed_hazard, send, progress=report_progress
    )
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture(scope="package")
def mail_replies() -> list[MailReply]:
    """The replies `smtp_port`'s receiver sent, oldest first."""
    return []


@pytest.fixture(scope="package")
def smtp_port(
    channels_database: str, channels_settings: Settings, mail_replies: list[MailReply]
) -> Iterator[int]:
    """A receiver on a free port, refusing messages over MAX_BYTES."""
    settings = channels_settings.model_copy(update={"smtp_max_message_bytes": MAX_BYTES})
    yield from _receiver(channels_database, settings, mail_replies)


@pytest.fixture(scope="package")
def roomy_smtp_port(channels_database: str, channels_settings: Settings) -> Iterator[int]:
    """A receiver with the default size limit, for large hostile messages."""
    yield from _receiver(channels_database, channels_settings)


def send_raw(port: int, data: bytes) -> tuple[int, str]:
    """Deliver bytes as they are; the server's answer to the message data."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo()
        client.mail("someone@example.org")
        client.rcpt(CARE_MAILBOX)
        code, answer = client.data(data)
    return code, answer.decode()


@dataclass(frozen=True)
class HazardIncident:
    id: int
    hazard: str
    status: str
    premise: str | None


@pytest.fixture
def hazard_incident(channels_database: str) -> Callable[[str], HazardIncident | None]:
    """The hazard incident the report with this ticket is evidence of, as committed now."""

    def find(ticket: str) -> HazardIncident | None:
        with session_scope(session_factory(channels_database)) as session:
            row = session.execute(
                text(
                    "SELECT i.id, i.hazard, i.status, p.ref AS premise FROM reports r"
                    " JOIN incident_evidence e ON e.report_id = r.id"
                    " JOIN incidents i ON i.id = e.incident_id AND i.kind = 'hazard'"
                    " LEFT JOIN premises p ON p.id = i.premise_id"
                    " WHERE r.ticket = :ticket"
                ),
                {"ticket": ticket},
            ).one_or_none()
            return HazardIncident(**row._mapping) if row else None

    return find


ZALO_APP_ID = "2749108437201"
ZALO_OA_SECRET = "oa-secret-of-the-tests"


@pytest.fixture(scope="package")
def zalo_api() -> Iterator[HttpSink]:
    """The stand-in of Zalo's OA API the replies are sent to."""
    with running_sink() as sink:
        yield sink


@pytest.fixture(scope="package")
def zalo_settings(channels_settings: Settings, zalo_api: HttpSink) -> Settings:
    """The Zalo channel on (its app and OA secret), replies sent to the stand-in, with
    quick retries; images fetched from the local photo server."""
    return channels_settings.model_copy(
        update={
            "zalo_app_id": ZALO_APP_ID,
            "zalo_oa_secret_key": SecretStr(ZALO_OA_SECRET),
            "zalo_api_url": zalo_api.url,
            "zalo_access_token": SecretStr(ZALO_TOKEN),
            "photo_url_hosts": ["127.0.0.1"],
            "notify_max_attempts": 3,
            "notify_backoff_seconds": timedelta(seconds=0.05),
            "notify_backoff_max_seconds": timedelta(seconds=0.1),
        }
    )


@pytest.fixture(scope="package")
def zalo_client(channels_database: str, zalo_settings: Settings) -> Iterator[TestClient]:
    """The app with the Zalo channel on; no credentials (Zalo signs its events instead)."""
    with TestClient(create_app(channels_database, zalo_settings)) as client:
        yield client


@dataclass(frozen=True)
class QueuedReply:
    text: str
    language: str
    safety: bool
    status: str
    attempts: int
    last_error: str | None


@pytest.fixture
def zalo_replies(channels_database: str) -> Callable[[str], list[QueuedReply]]:
    """The replies to a Zalo user, oldest first, as committed now."""

    def find(user_id: str) -> list[QueuedReply]:
        with session_scope(session_factory(channels_database)) as session:
            rows = session.execute(
                text(
                    "SELECT body AS text, language, safety, status, attempts, last_error"
                    " FROM notifications WHERE channel = 'zalo' AND kind = 'reply'"
                    " AND address = :user ORDER BY id"
                ),
                {"user": user_id},
            )
            return [QueuedReply(**row._mapping) for row in rows]

    return find


@pytest.fixture
def premise_point(channels_database: str) -> Callable[[str], tuple[float, float]]:
    """A premise's latitude and longitude."""

    def find(ref: str) -> tuple[float, float]:
        with session_scope(session_factory(channels_database)) as session:
            row = session.execute(
                text("SELECT ST_Y(geom) AS lat, ST_X(geom) AS lon FROM premises WHERE ref = :ref"),
                {"ref": ref},
            ).one()
            return row.lat, row.lon

    return find


@pytest.fixture
def premise_alone(channels_database: str) -> Callable[[str], bool]:
    """Whether no other premise stands within a metre of this one (a GPS point there names
    it alone)."""

    def alone(ref: str) -> bool:
        with session_scope(session_factory(channels_database)) as session:
            others = session.scalar(
                text(
                    "SELECT count(*) FROM premises p JOIN premises o"
                    " ON o.id <> p.id AND ST_DWithin(o.geom::geography, p.geom::geography, 1)"
                    " WHERE p.ref = :ref"
                ),
                {"ref": ref},
            )
            return not others

    return alone


def mail(sender: str, subject: str, body: str, message_id: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = CARE_MAILBOX
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="example.net")
    message.set_content(body)
    return message


def send(port: int, message: EmailMessage) -> tuple[int, str]:
    """Deliver over SMTP; the server's answer to the message data."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        client.mail(str(message["From"]))
        client.rcpt(CARE_MAILBOX)
        code, answer = client.data(message.as_bytes(policy=policy.SMTP))
    return code, answer.decode()


def file(port: int, message: EmailMessage) -> str:
    """Deliver a message the receiver must accept; the ticket it was filed under."""
    code, answer = send(port, message)
    assert code == 250, answer
    return answer.rsplit(" ", 1)[-1]
