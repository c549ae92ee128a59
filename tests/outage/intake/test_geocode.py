"""Placing a report by what the customer told us."""

from sqlalchemy import text

from outage.db import session_factory
from outage.intake.geocode import CANDIDATES, Clues, locate
from outage.settings import get_settings

SHARED_PHONE = "+84339999999"


def test_a_phone_many_customers_share_offers_an_agent_some_premises_and_locks_nobody(
    grid_database: str,
) -> None:
    session = session_factory(grid_database)()
    try:
        session.execute(
            text(
                "UPDATE customers SET phone = :phone"
                " WHERE id IN (SELECT id FROM customers ORDER BY id DESC LIMIT :n)"
            ),
            {"phone": SHARED_PHONE, "n": CANDIDATES + 5},
        )
        match = locate(session, Clues(phone=SHARED_PHONE), get_settings(), claim=True)
        locks = session.execute(
            text(
                "SELECT count(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        ).scalar_one()
    finally:
        session.rollback()
        session.close()
    assert not match.placed
    assert len(set(match.candidates)) == CANDIDATES
    assert (match.claimed, locks) == (False, 0)
