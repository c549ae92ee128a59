"""`outage crews add` as a user runs it: crews from elsewhere, with when they arrive."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from outage.cli import app
from outage.crews.enums import CrewOrigin
from outage.crews.models import Crew
from outage.db import session_factory, session_scope
from outage.settings import get_settings


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _add(name: str, *more: str) -> Result:
    return CliRunner().invoke(
        app,
        [
            "crews",
            "add",
            name,
            "--lat",
            "21.0",
            "--lon",
            "105.8",
            "--skill",
            "overhead_line",
            *more,
        ],
    )


def test_a_crew_lent_for_a_storm_is_added_with_its_arrival(cli_database: str) -> None:
    name = f"lent {uuid.uuid4().hex[:8]}"
    result = _add(
        name,
        "--origin",
        "mutual_aid",
        "--organisation",
        "PC Hải Phòng",
        "--arrives-at",
        "2026-12-07T14:00+07:00",
    )
    assert result.exit_code == 0, result.output
    with session_scope(session_factory(cli_database)) as session:
        crew = session.scalars(select(Crew).where(Crew.name == name)).one()
        assert (crew.origin, crew.organisation) == (CrewOrigin.MUTUAL_AID, "PC Hải Phòng")
        assert crew.arrives_at == datetime(2026, 12, 7, 7, tzinfo=UTC)


def test_an_arrival_without_a_zone_is_refused_with_the_reason(cli_database: str) -> None:
    name = f"lent {uuid.uuid4().hex[:8]}"
    result = _add(name, "--arrives-at", "2026-12-07T14:00")
    assert result.exit_code != 0
    assert "arrives_at" in result.output
    with session_scope(session_factory(cli_database)) as session:
        assert session.scalars(select(Crew).where(Crew.name == name)).first() is None
