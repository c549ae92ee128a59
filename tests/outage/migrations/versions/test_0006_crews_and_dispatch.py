"""Upgrading to crews keeps the crew numbers already in use: they become crews."""

from alembic import command
from sqlalchemy import create_engine, text

from outage.db import alembic_config, run_migrations, session_factory, session_scope
from tests.conftest import make_crew


def test_crew_numbers_in_use_become_crews_off_shift(fresh_database_url: str) -> None:
    command.downgrade(alembic_config(fresh_database_url), "0005")
    engine = create_engine(fresh_database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff_users (username, password_hash, role, crew_id) "
                "VALUES ('lead-12', 'x', 'crew', 12)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO incidents (kind, status, confidence, customers_affected, "
                "customers_restored, started_at, momentary, crew_id, version) "
                "VALUES ('outage', 'dispatched', 1, 5, 0, now(), false, 40, 1)"
            )
        )
    engine.dispose()

    run_migrations(fresh_database_url)

    with session_scope(session_factory(fresh_database_url)) as session:
        crews = session.execute(
            text("SELECT id, name, status, cardinality(skills) FROM crews ORDER BY id")
        ).all()
        assert [tuple(row) for row in crews] == [
            (12, "Crew 12", "off_shift", 0),
            (40, "Crew 40", "off_shift", 0),
        ]
        assert make_crew(session) == 41
