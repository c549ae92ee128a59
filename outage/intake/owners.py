"""Checking that a caller is the customer a ticket (a report's or a service request's)
belongs to, by the last digits of a phone, with the wrong guesses counted in the database.
"""

import ipaddress
import math
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage.errors import RateLimited
from outage.intake.limits import IntakeLimits
from outage.intake.models import TicketGuess

IPV6_PREFIX = 64
"""Guesses from IPv6 are counted per network of this size: a subscriber is given a whole
/64 and could otherwise guess from a fresh address each time."""


class Verdict(StrEnum):
    """Whether a caller proved a ticket is theirs."""

    PROVEN = "proven"
    NO_PHONE = "no_phone"
    """The ticket has no phone to check against."""
    MISSING = "missing"
    MISMATCH = "mismatch"


def verify_owner(
    session: Session,
    limits: IntakeLimits,
    ticket: str,
    phone_last4: str | None,
    phones_of: Callable[[Session, str], list[str]],
    *,
    client: str | None,
) -> Verdict:
    """Check the last four digits of the phone given with a ticket or registered to its
    customer (`phones_of`).

    Guesses are counted per ticket and client (`guesser`) in the database, so every process
    shares the count: each is counted before it is compared (so parallel guesses cannot
    overtake the count) and a right one is taken back. A client over the limit is refused
    (RateLimited), even a right answer, while the customer's own address is not.

    A counted guess commits `session` (no second connection per guess), so call this
    before the request writes anything; the refund of a right one goes with the request.
    """
    phones = phones_of(session, ticket)
    if not phones:
        return Verdict.NO_PHONE
    if phone_last4 is None:
        return Verdict.MISSING
    now = datetime.now(UTC)
    where = {"ticket": ticket, "client": guesser(client)}
    limit = limits.status_guesses
    window = timedelta(seconds=limit.get_expiry())
    guesses, since = _count_guess(session, where, now, window)
    # Committed at once: the count must stand even when the answer is a refusal, which
    # rolls the request back, and parallel guesses wait for the counted row no longer.
    session.commit()
    if guesses > limit.amount:
        retry_after_s = max(1, math.ceil((since + window - now).total_seconds()))
        raise RateLimited("ticket from this address", retry_after_s, doing="wrong checks of")
    if not any(secrets.compare_digest(phone[-4:], phone_last4) for phone in phones):
        return Verdict.MISMATCH
    # The refund is committed with the request's answer.
    session.execute(update(TicketGuess).filter_by(**where).values(wrong=TicketGuess.wrong - 1))
    return Verdict.PROVEN


def guesser(client: str | None) -> str:
    """Whom a guess from `client` (an address as `client_ip` writes it) is counted against:
    an IPv6 caller's /64 network (`IPV6_PREFIX`), an IPv4 caller's address, else `client`."""
    if client is None:
        return "unknown"
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if address.version == 6:
        return str(ipaddress.ip_network((address, IPV6_PREFIX), strict=False))
    return str(address)


def forget_guesses(session: Session, *, before: datetime) -> int:
    """Drop the counts whose window began before `before` (they hold client addresses and
    count for nothing any more); how many."""
    stale = TicketGuess.window_start < before
    forgotten = session.scalars(delete(TicketGuess).where(stale).returning(TicketGuess.ticket))
    return len(forgotten.all())


def _count_guess(
    session: Session, where: dict[str, str], now: datetime, window: timedelta
) -> tuple[int, datetime]:
    """One more guess, and the count with the window's start; a window that has passed
    starts again."""
    expired = TicketGuess.window_start <= now - window
    statement = (
        insert(TicketGuess)
        .values(**where, wrong=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[TicketGuess.ticket, TicketGuess.client],
            set_={
                "wrong": case((expired, 1), else_=TicketGuess.wrong + 1),
                "window_start": case((expired, now), else_=TicketGuess.window_start),
            },
        )
        .returning(TicketGuess.wrong, TicketGuess.window_start)
    )
    row = session.execute(statement).one()
    return row.wrong, row.window_start
