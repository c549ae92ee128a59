"""The migrations build exactly the schema the models describe, and undo cleanly."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

import outage.models  # noqa: F401  (registers every table)
from outage.db import Base, alembic_config, run_migrations


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": alembic_helpers.include_object}
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_downgrade_to_nothing_and_back_up(fresh_database_url: str) -> None:
    command.downgrade(alembic_config(fresh_database_url), "base")
    run_migrations(fresh_database_url)
    engine = create_engine(fresh_database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() is not None
    engine.dispose()
