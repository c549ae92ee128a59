"""On the shared database with the sample grid: API clients (an administrator's, anyone's,
an agent's and a supervisor's), a session, and customers for care requests; a gateway's
stand-in, a web server of photos, and a head-end named in the settings.

Folders with a database of their own override `client` and `session` (those with one per
test module, with `tests/outage/database_per_module.py`).
"""

import json
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from grid_topology.model import GridModel, Premise
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.loopback import LoopbackServer
from outage.notifications.sink import HttpSink, running_sink
from outage.settings import get_settings
from tests.conftest import Credentials, own_database, staff_client
from tests.outage.media import pictures
from tests.outage.regions_grid import REGIONS, two_region_grid

CARE_BAND = slice(1200, 1300)
"""Care tests (the requests' service, API and pages) file requests (and the odd report) for
these customers only."""


@pytest.fixture(scope="session")
def client(grid_database: str, credentials: Credentials) -> Iterator[TestClient]:
    """Signed in as an administrator: every route is open to it."""
    with staff_client(create_app(grid_database), credentials) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def anonymous_client(grid_database: str) -> Iterator[TestClient]:
    """No credentials: what a customer (or anyone on the internet) gets."""
    with TestClient(create_app(grid_database)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def agent_client(grid_database: str, credentials: Credentials) -> Iterator[TestClient]:
    with staff_client(create_app(grid_database), credentials, Role.AGENT) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def supervisor_client(grid_database: str, credentials: Credentials) -> Iterator[TestClient]:
    with staff_client(create_app(grid_database), credentials, Role.SUPERVISOR) as test_client:
        yield test_client


@pytest.fixture
def session(grid_database: str) -> Iterator[Session]:
    """A committed unit of work on the shared database."""
    with session_scope(session_factory(grid_database)) as unit:
        yield unit


@pytest.fixture
def name_headend(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """`name_headend(url)`: the process's settings name that head-end (restorations are
    verified by pinging through it) until the test ends."""

    def name(url: str) -> None:
        monkeypatch.setenv("OUTAGE_AMI_HEADEND_URL", url)
        get_settings.cache_clear()

    yield name
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def sink() -> Iterator[HttpSink]:
    """A gateway's stand-in on a loopback port (SCADA's command endpoint, the SMS
    gateway): it takes every request and keeps each by its key."""
    with running_sink() as sink:
        yield sink


@pytest.fixture(scope="session")
def care_customers(sample_grid: GridModel) -> list[Premise]:
    return [p for p in sample_grid.premises[CARE_BAND] if p.customer and p.customer.phone]


@pytest.fixture(scope="session")
def _next_care_customer() -> Iterator[int]:
    return count()


@pytest.fixture
def care_customer(care_customers: list[Premise], _next_care_customer: Iterator[int]) -> Premise:
    """A premise with a customer (with a phone) that no other care test uses."""
    return care_customers[next(_next_care_customer)]


PHOTO_SERVED = pictures.picture(colour="orange")


class _Photos(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/photo.jpg":
            self._answer(200, PHOTO_SERVED)
        elif self.path.startswith("/hops/"):
            left = int(self.path.rsplit("/", 1)[1])
            self._redirect(f"/hops/{left - 1}" if left else "/photo.jpg")
        elif self.path == "/to-metadata":
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif self.path == "/endless":
            self.send_response(200)
            self.end_headers()
            for _ in range(1024):
                self.wfile.write(b"\0" * 1024)
        else:
            self._answer(404, b"")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def photo_server() -> Iterator[str]:
    """A web server on 127.0.0.1 (its base URL) serving `PHOTO_SERVED` at /photo.jpg, a
    chain of N redirects at /hops/N, a redirect to a private address, a megabyte of
    zeros (/endless) and 404s."""
    with LoopbackServer(ThreadingHTTPServer(("127.0.0.1", 0), _Photos), name="photos") as s:
        yield s.url.rstrip("/")


@pytest.fixture
def regions_database(database_url: str) -> Iterator[str]:
    """A database of its own with the grid of two regions (`tests/outage/regions_grid.py`)."""
    with own_database(database_url, "outage_regions", two_region_grid()) as url:
        yield url


@pytest.fixture
def engine_regions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The settings name that grid's two regions (child processes inherit them)."""
    monkeypatch.setenv("OUTAGE_ENGINE_REGIONS", json.dumps(REGIONS))
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()
