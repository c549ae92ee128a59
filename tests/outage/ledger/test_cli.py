"""`outage audit`: seal, then verify; a change makes it fail naming the row."""

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from outage.cli import app
from outage.db import session_scope
from tests.outage.ledger.test_verification import _write


def test_verify_passes_on_sealed_records_and_fails_naming_a_changed_one(
    cli: CliRunner, sessions: sessionmaker[Session]
) -> None:
    records = _write(sessions)
    assert cli.invoke(app, ["audit", "seal"]).exit_code == 0
    untouched = cli.invoke(app, ["audit", "verify"])
    assert untouched.exit_code == 0, untouched.output
    changed = records.incident_events[0]
    with session_scope(sessions) as session:
        session.execute(
            text("UPDATE incident_events SET actor = 'x' WHERE id = :id"), {"id": changed}
        )
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"incident_events: row {changed}, place 1" in result.output
