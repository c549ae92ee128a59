"""The few questions channels ask the database before they hand a report to the service."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from outage.grid.models import Customer
from outage.i18n import Language
from outage.intake.models import Report

_ACCOUNT_CANDIDATES_MAX = 500


@dataclass(frozen=True)
class CustomerBrief:
    account: str
    language: Language


def customers_by_phone(session: Session, phone: str) -> list[CustomerBrief]:
    """Customers registered with this E.164 number (at most ten)."""
    rows = session.execute(
        select(Customer.account, Customer.language)
        .where(Customer.phone == phone)
        .order_by(Customer.account)
        .limit(10)
    )
    return [CustomerBrief(r.account, r.language) for r in rows]


def language_of(
    session: Session,
    *,
    account: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> Language | None:
    """The language the customer chose: by account, else by phone, else by e-mail address
    (when the customers a phone or address names do not agree, none)."""
    conditions: list[ColumnElement[bool]] = []
    if account:
        conditions.append(Customer.account == account)
    if phone:
        conditions.append(Customer.phone == phone)
    if email:
        conditions.append(func.lower(Customer.email) == email.lower())
    for condition in conditions:
        languages = list(
            session.scalars(select(Customer.language).where(condition).distinct().limit(2))
        )
        if len(languages) == 1:
            return languages[0]
    return None


def known_accounts(session: Session, candidates: Iterable[str]) -> set[str]:
    """Those of the candidate strings that are customer account numbers."""
    wanted = list(dict.fromkeys(c for c in candidates if c))[:_ACCOUNT_CANDIDATES_MAX]
    if not wanted:
        return set()
    return set(session.scalars(select(Customer.account).where(Customer.account.in_(wanted))))


def account_by_digits(session: Session, digits: str) -> str | None:
    """The account keyed on a telephone keypad: the account itself, or the one whose digits
    these are ('LV4.301 Load 7' is keyed 43017) when exactly one customer's are.

    The second lookup reads every account: fine for one call at a time, and the place
    for an index on the accounts' digits once the customer base is large.
    """
    if session.scalar(select(Customer.account).where(Customer.account == digits)):
        return digits
    only_digits = func.regexp_replace(Customer.account, r"\D", "", "g")
    found = list(session.scalars(select(Customer.account).where(only_digits == digits).limit(2)))
    return found[0] if len(found) == 1 else None


def latest_ticket(
    session: Session, *, phone: str | None = None, zalo_user_id: str | None = None
) -> str | None:
    """The ticket of the newest report made from this number, or by this Zalo user."""
    if phone is not None:
        sender = Report.phone == phone
    elif zalo_user_id is not None:
        sender = Report.zalo_user_id == zalo_user_id
    else:
        return None
    return session.scalar(
        select(Report.ticket)
        .where(sender)
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(1)
    )


def latest_ticket_of_email(session: Session, email: str) -> str | None:
    """The ticket of the newest report made from this e-mail address."""
    return session.scalar(
        select(Report.ticket)
        .where(func.lower(Report.email) == email.lower())
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(1)
    )


def already_received(session: Session, key: str) -> bool:
    """Whether a report with this idempotency key is stored: a retry, not a new report."""
    return session.scalar(select(Report.id).where(Report.idempotency_key == key)) is not None
