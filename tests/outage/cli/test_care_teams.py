"""`outage care-teams` as a user runs it: teams of existing staff accounts only."""

import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from outage.auth import service as accounts
from outage.auth.enums import Role
from outage.cli import app
from outage.db import session_factory, session_scope
from outage.settings import get_settings


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_a_team_of_staff_is_added_listed_and_a_member_removed(cli_database: str) -> None:
    staff = f"care-{uuid.uuid4().hex[:8]}"
    with session_scope(session_factory(cli_database)) as session:
        accounts.create_user(
            session, username=staff, password="correct horse battery", role=Role.AGENT
        )
    team = f"team {uuid.uuid4().hex[:8]}"
    runner = CliRunner()
    unknown = runner.invoke(app, ["care-teams", "add", team, "--member", "nobody-here"])
    assert unknown.exit_code == 1 and "nobody-here" in unknown.output
    added = runner.invoke(
        app, ["care-teams", "add", team, "--supervisor", staff, "--member", staff]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["care-teams", "list"])
    assert f"{team}\t{staff}\t{staff}" in listed.output
    assert "customer-care" in listed.output
    removed = runner.invoke(app, ["care-teams", "remove-member", team, staff])
    assert removed.exit_code == 0, removed.output
    again = runner.invoke(app, ["care-teams", "remove-member", team, staff])
    assert again.exit_code == 1
