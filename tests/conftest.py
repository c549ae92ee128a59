"""Shared fixtures.

Integration tests run against a real PostgreSQL+PostGIS: `TEST_DATABASE_URL` when set
(its schema is migrated to the newest revision), else a throwaway private cluster
started once per test session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.orm import Session

from dispatch.model import Method, Skill
from dispatch.priority import Tier
from grid_topology.geojson import read_grid
from grid_topology.model import GridModel
from outage import pgcluster
from outage.auth import service as auth
from outage.auth.enums import Role, Scope, SessionKind
from outage.auth.models import ApiKey
from outage.clock import Clock
from outage.crews import service as crews
from outage.crews.models import Crew, DispatchPlan, DispatchPlanJob
from outage.crews.schemas import CrewIn
from outage.db import create_database, drop_database, get_engine, session_factory, session_scope
from outage.grid.service import save_grid
from outage.settings import get_settings

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
"""Fuzzing bounded and repeatable, so it runs in CI on every change."""

STAFF_PASSWORD = "correct horse battery staple"
"""The password of every test staff member (`test-<role>`)."""
TEST_CREW = "Test crew"
"""The crew of the test crew member: off shift, so no plan ever gives it work."""


def make_crew(
    session: Session,
    name: str | None = None,
    *,
    depot: tuple[float, float] = (105.8, 21.0),
    skills: Sequence[Skill] = (Skill.OVERHEAD_LINE,),
    shifts: Sequence[dict[str, datetime]] | None = None,
) -> int:
    """A crew (a unique name unless given) at a depot (lon, lat); on shift from an hour ago
    for eight hours unless `shifts` says otherwise. Its id."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    crew = CrewIn.model_validate(
        {
            "name": name or f"crew {uuid.uuid4().hex[:10]}",
            "skills": list(skills),
            "depot": {"lon": depot[0], "lat": depot[1]},
            "shifts": [{"starts_at": start, "ends_at": start + timedelta(hours=8)}]
            if shifts is None
            else list(shifts),
        }
    )
    return crews.create_crew(session, crew)


def plan_first_visit(session: Session, crew_id: int, incident_id: int, arrival: datetime) -> None:
    """The newest dispatch plan: it sends the crew to the incident first, arriving then."""
    plan = DispatchPlan(
        made_at=datetime.now(UTC),
        made_by="test",
        method=Method.GREEDY,
        objective=0.0,
        cmi=0.0,
        greedy_objective=0.0,
        greedy_cmi=0.0,
        solve_s=0.0,
        storm=False,
        note="",
        fingerprint=uuid.uuid4().hex,
    )
    session.add(plan)
    session.flush()
    session.add(
        DispatchPlanJob(
            plan_id=plan.id,
            incident_id=incident_id,
            crew_id=crew_id,
            sequence=1,
            arrival=arrival,
            start=arrival,
            finish=arrival + timedelta(hours=1),
            travel_s=600,
            tier=Tier.OUTAGE,
            weight=1,
            critical=[],
            pinned=False,
        )
    )


@dataclass(frozen=True)
class Credentials:
    """Bearer tokens of a test staff member per role, and an API key per scope."""

    tokens: dict[Role, str]
    keys: dict[Scope, str]
    crew_id: int | None = None
    """The test crew member's crew (when a crew member was asked for)."""

    def staff(self, role: Role = Role.ADMIN) -> dict[str, str]:
        """Headers of a request by the test staff member of that role."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def key(self, scope: Scope) -> dict[str, str]:
        """Headers of a request with the test API key of that scope."""
        return {"X-API-Key": self.keys[scope]}


def username(role: Role) -> str:
    return f"test-{role.value}"


def issue_credentials(
    database_url: str,
    roles: Collection[Role] = tuple(Role),
    scopes: Collection[Scope] = tuple(Scope),
) -> Credentials:
    """Staff of these roles (created once per database, the crew member's crew too) with
    fresh bearer tokens, and a new API key per scope."""
    now = datetime.now(UTC)
    tokens: dict[Role, str] = {}
    keys: dict[Scope, str] = {}
    crew_id = None
    with session_scope(session_factory(database_url)) as session:
        if Role.CREW in roles:
            crew_id = session.scalar(select(Crew.id).where(Crew.name == TEST_CREW))
            if crew_id is None:
                crew_id = make_crew(session, TEST_CREW, shifts=[])
        for role in roles:
            if auth.get_user(session, username=username(role)) is None:
                auth.create_user(
                    session,
                    username=username(role),
                    password=STAFF_PASSWORD,
                    role=role,
                    crew_id=crew_id if role is Role.CREW else None,
                    display_name=f"Test {role.value}",
                )
            granted = auth.open_session(
                session,
                username=username(role),
                kind=SessionKind.BEARER,
                now=now,
                lifetime=timedelta(days=1),
            )
            tokens[role] = granted.token
        for scope in scopes:
            _, keys[scope] = auth.create_api_key(
                session, name=f"test-{scope.value}-{uuid.uuid4().hex[:8]}", scopes=[scope]
            )
    return Credentials(tokens, keys, crew_id)


def ensure_api_key(database_url: str, key: str, scopes: list[Scope]) -> str:
    """An active API key with this very value (made once per database)."""
    with session_scope(session_factory(database_url)) as session:
        found = session.scalar(select(ApiKey).where(ApiKey.key_hash == auth.digest(key)))
        if found is None:
            auth.create_api_key(
                session, name=f"test-{uuid.uuid4().hex[:8]}", scopes=scopes, key=key
            )
        elif found.revoked_at is not None or set(found.scopes) != {s.value for s in scopes}:
            raise RuntimeError("a test key was revoked or changed scopes")
    return key


def staff_client(app: FastAPI, credentials: Credentials, role: Role = Role.ADMIN) -> TestClient:
    """A test client whose every request is made by the staff member of `role`."""
    return TestClient(app, headers=credentials.staff(role))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of a migrated database, shared by the whole session (by one worker's tests when
    they run in parallel workers: each worker has its own, named for this run too, so two
    runs against one server do not meet, and dropped when the worker ends)."""
    from outage.db import run_migrations

    given = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if given and worker:
        name = f"outage_test_{worker}_{uuid.uuid4().hex[:10]}"
        try:
            url = create_database(given, name)
            try:
                yield url
            finally:
                _drop_templates(url)
                get_engine(url).dispose()
        finally:
            drop_database(given, name)
        return
    if given:
        run_migrations(given)
        yield given
        _drop_templates(given)
        return
    # Not pytest's tmp_path: it is 0700 (the server may run as another user) and its
    # path can be too long for a unix socket.
    data_dir = Path(tempfile.mkdtemp(prefix="outage-test-", dir="/tmp"))
    data_dir.chmod(0o755)
    try:
        url = pgcluster.ensure_running(data_dir, fast=True)
        run_migrations(url)
        yield url
    finally:
        pgcluster.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


_templates: dict[tuple[str, bool], str] = {}
"""(shared database URL, holds the sample grid) -> name of a template database beside it."""


def _template(database_url: str, with_sample_grid: bool) -> str:
    """A database to copy, migrated once (and given the sample grid once) per session:
    a copy takes a fraction of the time of migrating and importing again."""
    key = (database_url, with_sample_grid)
    if key not in _templates:
        name = f"outage_template_{uuid.uuid4().hex[:10]}"
        url = create_database(database_url, name)
        if with_sample_grid:
            with session_scope(session_factory(url)) as session:
                save_grid(session, load_sample_grid())
        get_engine(url).dispose()  # a template with a connection open cannot be copied
        _templates[key] = name
    return _templates[key]


def _drop_templates(database_url: str) -> None:
    for (url, with_sample_grid), name in list(_templates.items()):
        if url == database_url:
            drop_database(database_url, name)
            del _templates[url, with_sample_grid]


@contextmanager
def rolled_back(database_url: str) -> Iterator[Session]:
    """A session on that database whose work is rolled back afterwards: tests sharing a
    database leave it as they found it."""
    session = session_factory(database_url)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def own_database(database_url: str, prefix: str, grid: GridModel | None = None) -> Iterator[str]:
    """A migrated database beside the shared one (holding `grid`, if given), dropped
    afterwards: for tests whose data would disturb another suite's."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    sample = grid is not None and grid is load_sample_grid()
    template = _template(database_url, sample)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        if grid is not None and not sample:
            with session_scope(session_factory(url)) as session:
                save_grid(session, grid)
        yield url
    finally:
        get_engine(url).dispose()
        drop_database(database_url, name)


@pytest.fixture
def fresh_database_url(database_url: str) -> Iterator[str]:
    """A migrated database of its own, for a test whose data would disturb the shared one."""
    with own_database(database_url, "outage_test") as url:
        yield url


SCALED_SPEED = 100.0
"""The speed of the `scaled_clock` fixture's clock: an hour of its time in 36 wall seconds."""


@pytest.fixture
def scaled_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The service on a scaled clock (as the demo runs it) that started ten wall minutes
    ago, so it reads more than sixteen hours ahead of the wall clock."""
    scaled = Clock(datetime.now(UTC) - timedelta(minutes=10), SCALED_SPEED)
    for name, value in scaled.environment().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield scaled
    monkeypatch.undo()
    get_settings.cache_clear()


@cache
def load_sample_grid() -> GridModel:
    """The sample grid, read once: `own_database` copies a database holding this very one."""
    return read_grid(get_settings().sample_grid)


@pytest.fixture(scope="session")
def sample_grid() -> GridModel:
    return load_sample_grid()


@pytest.fixture(scope="session")
def grid_database(database_url: str, sample_grid: GridModel) -> str:
    """The shared test database with the sample grid (saving it again changes nothing)."""
    with session_scope(session_factory(database_url)) as session:
        save_grid(session, sample_grid)
    return database_url


@pytest.fixture(scope="session")
def credentials(grid_database: str) -> Credentials:
    """Test staff and API keys on the shared database."""
    return issue_credentials(grid_database)


@contextmanager
def _serving(app: FastAPI) -> Iterator[str]:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def serve() -> Callable[[FastAPI], AbstractContextManager[str]]:
    """`with serve(app) as url:` runs the app under uvicorn on a free loopback port."""
    return _serving
