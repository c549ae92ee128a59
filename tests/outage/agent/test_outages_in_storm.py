"""What the agent console reads of a caller's outages in a storm: the time its customers
are told, as the storm's phase in its region allows, in a database of its own (a storm
is on for the whole service)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from grid_topology.model import GridModel
from grid_topology.topology import Topology
from outage.agent.service import IncidentBrief, outages_at
from outage.db import session_factory, session_scope
from outage.grid import models as grid
from outage.grid.service import load_network
from outage.incidents.changes import open_incident, set_etr
from outage.storms import service as storms
from outage.storms.enums import StormPhase
from outage.storms.schemas import StormIn
from tests.conftest import own_database


@pytest.fixture(scope="module")
def storm_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_agent_storm", sample_grid) as url:
        yield url


@pytest.fixture
def session(storm_database: str) -> Iterator[Session]:
    with session_scope(session_factory(storm_database)) as session:
        yield session
        session.execute(text("UPDATE storms SET ended_at = declared_at WHERE ended_at IS NULL"))


def _outage_told(session: Session, sample_grid: GridModel) -> IncidentBrief:
    """An outage on a premise's transformer with an ETR of its own, as the agent reads it."""
    premise = sample_grid.premises[0]
    transformer = session.scalar(
        select(grid.Device.asset_ref)
        .join(grid.Premise, grid.Premise.transformer_id == grid.Device.id)
        .where(grid.Premise.ref == premise.ref)
    )
    assert transformer is not None
    now = datetime.now(UTC)
    incident = open_incident(
        session,
        device_asset_ref=transformer,
        confidence=0.9,
        customers_affected=1,
        started_at=now - timedelta(minutes=30),
        reason="agent storm test",
    )
    set_etr(session, incident, etr=now + timedelta(hours=2))
    found = outages_at(
        session,
        topology=Topology(load_network(session)),
        premises=[premise.ref],
        since=now - timedelta(days=1),
    )
    return next(i for i in found[premise.ref].active if i.id == incident)


def test_outside_a_storm_the_agent_reads_the_outages_own_time(
    session: Session, sample_grid: GridModel
) -> None:
    told = _outage_told(session, sample_grid)
    assert told.etr is not None and not told.assessing_damage


def test_while_damage_is_assessed_the_agent_reads_no_time_as_the_customer(
    session: Session, sample_grid: GridModel
) -> None:
    storm = StormIn(name="Yagi", level=2, phase=StormPhase.ASSESSING)
    storms.declare(session, storm, actor="supervisor", now=datetime.now(UTC))
    told = _outage_told(session, sample_grid)
    assert told.etr is None and told.assessing_damage
