"""What the benchmarks share: a database held for one run at a time."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from benchmarks.harness import DatabaseInUse, fresh_database

NAME = "outage_bench_harness_test"


def _exists(admin_url: str, name: str) -> bool:
    engine = create_engine(admin_url, poolclass=NullPool)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT count(*) FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar_one()
    engine.dispose()
    return bool(found)


def test_a_second_run_is_refused_the_database_a_first_run_holds(database_url: str) -> None:
    with fresh_database(database_url, NAME):
        with pytest.raises(DatabaseInUse), fresh_database(database_url, NAME):
            pass
        assert _exists(database_url, NAME)
    assert not _exists(database_url, NAME)


def test_holding_a_database_keeps_no_transaction_open(database_url: str) -> None:
    with fresh_database(database_url, NAME):
        engine = create_engine(database_url, poolclass=NullPool)
        with engine.connect() as connection:
            holders = connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND a.state = 'idle in transaction'"
                )
            ).scalar_one()
        engine.dispose()
    assert holders == 0
