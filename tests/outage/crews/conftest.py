"""A database of dispatch's own with the sample grid: the planner takes every active incident
in the database, so another suite's incidents must not be in it (nor ours in theirs).

Each test starts with no crews, crew members, pins, plans or active incidents (`clean`).
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.model import Skill
from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.app import create_app
from outage.auth import service as auth
from outage.auth.enums import Role, SessionKind
from outage.crews import plan_view, planning
from outage.crews.planning import PlanSettings
from outage.crews.schemas import PlanOut
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Device, Premise
from outage.incidents.changes import open_incident
from outage.incidents.enums import IncidentKind
from outage.intake.enums import Hazard
from outage.settings import get_settings
from tests.conftest import (
    STAFF_PASSWORD,
    Credentials,
    issue_credentials,
    make_crew,
    own_database,
)

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="package")
def crews_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_crews", sample_grid) as url:
        yield url


@pytest.fixture(scope="package")
def crews_credentials(crews_database: str) -> Credentials:
    """Everyone but a crew member, whose crew `clean` would delete (see `crew_member`)."""
    return issue_credentials(crews_database, roles=[r for r in Role if r is not Role.CREW])


@pytest.fixture(scope="package")
def crews_app(crews_database: str, crews_credentials: Credentials) -> FastAPI:
    return create_app(crews_database)


@pytest.fixture(scope="package")
def topology(sample_grid: GridModel) -> Topology:
    return Topology(Network.from_model(sample_grid))


@pytest.fixture(autouse=True)
def clean(crews_database: str) -> None:
    """No crews, crew members, pins, plans, storms or active incidents left by an earlier
    test; finished incidents stay, but without their crews."""
    with session_scope(session_factory(crews_database)) as session:
        session.execute(text("UPDATE storms SET ended_at = declared_at WHERE ended_at IS NULL"))
        session.execute(text("DELETE FROM dispatch_plans"))
        session.execute(text("DELETE FROM dispatch_pins"))
        session.execute(
            text(
                "UPDATE incidents SET status = 'cancelled', version = version + 1 "
                "WHERE status NOT IN ('restored', 'closed', 'cancelled')"
            )
        )
        session.execute(
            text(
                "UPDATE incidents SET crew_id = NULL, version = version + 1 "
                "WHERE crew_id IS NOT NULL"
            )
        )
        session.execute(text("DELETE FROM staff_users WHERE crew_id IS NOT NULL"))
        session.execute(text("DELETE FROM crews"))


@pytest.fixture
def session(crews_database: str) -> Iterator[Session]:
    """A session whose work is committed at the end of the test (the planner locks rows)."""
    with session_scope(session_factory(crews_database)) as opened:
        yield opened


@pytest.fixture
def client(crews_app: FastAPI, crews_credentials: Credentials) -> Iterator[TestClient]:
    """Signed in as a dispatcher."""
    with TestClient(crews_app, headers=crews_credentials.staff(Role.DISPATCHER)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Places:
    """Devices of the sample grid with where they are."""

    breaker: str
    fuses: tuple[str, ...]
    location: dict[str, tuple[float, float]]
    """(lon, lat) of each device (a point on it)."""
    critical_transformer: str
    """A transformer with a critical customer below it."""
    critical_kind: str


@pytest.fixture(scope="package")
def places(crews_database: str, sample_grid: GridModel, topology: Topology) -> Places:
    counts = topology.customer_counts()
    with session_scope(session_factory(crews_database)) as session:
        location = {
            ref: (lon, lat)
            for ref, lon, lat in session.execute(
                text(
                    "SELECT asset_ref, ST_X(ST_PointOnSurface(geom)), "
                    "ST_Y(ST_PointOnSurface(geom)) FROM devices"
                )
            )
        }
        transformer, kind = session.execute(
            select(Device.asset_ref, Customer.critical)
            .select_from(Premise)
            .join(Device, Device.id == Premise.transformer_id)
            .join(Customer, Customer.premise_id == Premise.id)
            .where(Customer.critical.is_not(None))
            .order_by(Device.asset_ref)
            .limit(1)
        ).one()
    breaker = next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.BREAKER)
    fuses = tuple(
        d.asset_ref
        for d in sample_grid.devices
        if d.kind is DeviceKind.FUSE and counts.get(d.asset_ref, 0) > 1
    )
    return Places(breaker, fuses, location, transformer, kind)


def shift(hours_from_now: float = -1, hours: float = 9) -> dict[str, datetime]:
    start = NOW + timedelta(hours=hours_from_now)
    return {"starts_at": start, "ends_at": start + timedelta(hours=hours)}


@pytest.fixture
def new_crew(crews_database: str) -> Callable[..., int]:
    """A crew at a depot (lon, lat), with skills and shifts (on shift now by default)."""

    def make(
        name: str,
        depot: tuple[float, float],
        skills: tuple[Skill, ...] = (Skill.OVERHEAD_LINE,),
        shifts: list[dict[str, datetime]] | None = None,
    ) -> int:
        with session_scope(session_factory(crews_database)) as session:
            return make_crew(
                session,
                name,
                depot=depot,
                skills=skills,
                shifts=[shift()] if shifts is None else shifts,
            )

    return make


@pytest.fixture
def new_incident(crews_database: str) -> Callable[..., int]:
    """A predicted incident on a device (or a hazard), started half an hour ago."""

    def make(
        device: str | None = None, *, customers: int = 10, hazard: Hazard | None = None
    ) -> int:
        with session_scope(session_factory(crews_database)) as session:
            return open_incident(
                session,
                kind=IncidentKind.HAZARD if device is None else IncidentKind.OUTAGE,
                device_asset_ref=device,
                hazard=hazard,
                confidence=0.8,
                customers_affected=customers,
                started_at=NOW - timedelta(minutes=30),
                reason="test",
            )

    return make


@pytest.fixture
def crew_member(crews_database: str) -> Callable[[int], dict[str, str]]:
    """Bearer headers of a new crew member of a crew."""

    def make(crew_id: int) -> dict[str, str]:
        user = f"crew-{uuid.uuid4().hex[:10]}"
        with session_scope(session_factory(crews_database)) as session:
            auth.create_user(
                session, username=user, password=STAFF_PASSWORD, role=Role.CREW, crew_id=crew_id
            )
            granted = auth.open_session(
                session,
                username=user,
                kind=SessionKind.BEARER,
                now=datetime.now(UTC),
                lifetime=timedelta(hours=1),
            )
        return {"Authorization": f"Bearer {granted.token}"}

    return make


def settings_for_tests(time_limit: timedelta = timedelta(seconds=1)) -> PlanSettings:
    """The service's settings with a short optimiser run."""
    from dataclasses import replace

    return replace(PlanSettings.from_settings(get_settings()), time_limit=time_limit)


def incident_row(database_url: str, incident_id: int) -> Any:
    with session_scope(session_factory(database_url)) as session:
        return session.execute(
            text(
                "SELECT status, crew_id, etr, etr_source, etr_earliest, etr_latest"
                " FROM incidents WHERE id = :id"
            ),
            {"id": incident_id},
        ).one()


KM = 1 / 111.0
"""Roughly a kilometre in degrees (of latitude)."""


def away(point: tuple[float, float], km: float) -> tuple[float, float]:
    return (point[0], point[1] + km * KM)


def plan_now(database_url: str, topology: Topology, *, now: datetime = NOW) -> PlanOut:
    """Plan every active incident now (a short optimiser run); the plan as read back."""
    with session_scope(session_factory(database_url)) as session:
        planning.make_plan(session, now=now, topology=lambda: topology, config=settings_for_tests())
        return plan_view.read_plan(session)


def crew_of(result: PlanOut, incident_id: int) -> int | None:
    """The crew the plan gives the incident to, if any."""
    return next(
        (c.crew_id for c in result.crews for j in c.jobs if j.incident_id == incident_id), None
    )
