"""Upgrading to the packed spells packs every customer's stored spells into one row, in
order of start, as the spells job packs them."""

from datetime import UTC, datetime, timedelta

import numpy as np
from alembic import command
from sqlalchemy import create_engine, text

from outage.db import alembic_config, run_migrations, session_factory, session_scope
from outage.incidents.recorded import PACKED_SPELL

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
SPELLS = [
    (
        7,
        datetime(2025, 5, 1, 8, tzinfo=UTC),
        datetime(2025, 5, 1, 10, 0, 5, 7, tzinfo=UTC),
        3,
        False,
    ),
    (7, datetime(2024, 1, 2, 8, tzinfo=UTC), datetime(2024, 1, 2, 8, 3, tzinfo=UTC), 2, True),
    (9, datetime(2025, 5, 1, 8, tzinfo=UTC), datetime(2025, 5, 1, 9, tzinfo=UTC), 3, False),
]


def test_the_stored_spells_are_packed_by_customer(fresh_database_url: str) -> None:
    command.downgrade(alembic_config(fresh_database_url), "0046")
    engine = create_engine(fresh_database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO interruption_spells (customer_id, start, "end", incident_id, planned)'
                " VALUES (:customer, :start, :end, :incident, :planned)"
            ),
            [
                dict(zip(("customer", "start", "end", "incident", "planned"), spell, strict=True))
                for spell in SPELLS
            ],
        )
    engine.dispose()

    run_migrations(fresh_database_url)

    with session_scope(session_factory(fresh_database_url)) as session:
        rows = session.execute(
            text("SELECT customer_id, spells FROM interruption_spell_packs ORDER BY customer_id")
        ).tuples()
        packed = [
            (customer, EPOCH + start * MICROSECOND, EPOCH + end * MICROSECOND, event, planned)
            for customer, data in rows
            for start, end, event, planned in np.frombuffer(data, dtype=PACKED_SPELL).tolist()
        ]
    assert packed == sorted(SPELLS, key=lambda spell: (spell[0], spell[1]))
