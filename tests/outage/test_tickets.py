"""Drawing tickets and storing a row under a fresh one, on a scratch table of its own."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage.db import session_factory
from outage.tickets import DRAWS, TICKET_ALPHABET, insert_with_ticket, new_ticket

NOW = datetime(2024, 7, 5, 9, 30, tzinfo=UTC)

_scratch = Table(
    "scratch_tickets",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("ticket", String, unique=True),
    Column("idempotency_key", String, unique=True),
    prefixes=["TEMPORARY"],
)
_INSERT = insert(_scratch).on_conflict_do_nothing().returning(_scratch.c.id)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A transaction that is rolled back, with an empty scratch table."""
    with session_factory(database_url)() as session, session.begin():
        _scratch.create(session.connection())
        yield session
        session.rollback()


@pytest.mark.parametrize("suffix_length", [5, 6])
def test_a_ticket_is_the_day_and_a_suffix_of_the_given_length(suffix_length: int) -> None:
    day, _, suffix = new_ticket(NOW, suffix_length).partition("-")
    assert day == "240705"
    assert len(suffix) == suffix_length
    assert set(suffix) <= set(TICKET_ALPHABET)


def test_the_receipt_names_the_stored_row_and_its_ticket(session: Session) -> None:
    receipt = insert_with_ticket(
        session, _INSERT, {}, now=NOW, suffix_length=6, stored=lambda row, t: (row.id, t)
    )
    stored = session.execute(text("SELECT id, ticket FROM scratch_tickets")).one()
    assert receipt == tuple(stored)


def test_a_row_whose_key_was_stored_first_gets_the_earlier_receipt(session: Session) -> None:
    session.execute(_INSERT, {"ticket": "first", "idempotency_key": "k"})
    receipt = insert_with_ticket(
        session,
        _INSERT,
        {"idempotency_key": "k"},
        now=NOW,
        suffix_length=6,
        stored=lambda i, t: "new",
        earlier=lambda: "earlier",
    )
    assert receipt == "earlier"
    assert session.scalar(text("SELECT count(*) FROM scratch_tickets")) == 1


def test_gives_up_after_drawing_only_taken_tickets(session: Session) -> None:
    """With no suffix there is one ticket a day: once taken, every draw collides."""
    session.execute(_INSERT, {"ticket": new_ticket(NOW, 0)})
    looked: list[None] = []

    def earlier() -> str | None:
        looked.append(None)
        return None

    with pytest.raises(RuntimeError, match="could not draw a free ticket"):
        insert_with_ticket(
            session, _INSERT, {}, now=NOW, suffix_length=0, stored=lambda i, t: t, earlier=earlier
        )
    assert len(looked) == DRAWS
