"""Customer tickets, shared by outage reports and service requests: drawing one, and
storing a row under a fresh one. Checking that a caller is the customer a ticket belongs
to is intake's (`outage/intake/owners.py`), beside the counts of guesses and their limit.

Both kinds draw from one alphabet; their suffix lengths differ, so a ticket's shape tells
which kind it is and the two never collide.
"""

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Executable, Row
from sqlalchemy.orm import Session

TICKET_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""No 0/O or 1/I: tickets are read out over the phone."""

DRAWS = 5
"""Tickets drawn before giving up: with 32^5 or more suffixes a day a collision is rare."""

T = TypeVar("T")


def new_ticket(now: datetime, suffix_length: int) -> str:
    suffix = "".join(secrets.choice(TICKET_ALPHABET) for _ in range(suffix_length))
    return f"{now:%y%m%d}-{suffix}"


def insert_with_ticket(
    session: Session,
    statement: Executable,
    values: dict[str, Any],
    *,
    now: datetime,
    suffix_length: int,
    stored: Callable[[Row[Any], str], T],
    earlier: Callable[[], T | None] | None = None,
) -> T:
    """Insert `values` under a freshly drawn ticket, drawing again when it is taken.

    `statement` is an INSERT ... ON CONFLICT DO NOTHING RETURNING id (and whatever else the
    receipt needs): no row means the ticket or the idempotency key was taken.
    `stored(row, ticket)` makes the receipt of the new row from what it returned;
    `earlier()`, given when the row has an idempotency key, the receipt of the row a
    concurrent retry with the same key stored first.
    """
    for _ in range(DRAWS):
        ticket = new_ticket(now, suffix_length)
        row = session.execute(statement, {**values, "ticket": ticket}).first()
        if row is not None:
            return stored(row, ticket)
        if earlier is not None:
            found = earlier()
            if found is not None:
                return found
    raise RuntimeError("could not draw a free ticket")
