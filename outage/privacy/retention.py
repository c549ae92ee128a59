"""Retention: personal data kept only as long as needed, the records themselves for good.

Once older than `OUTAGE_RETENTION_DAYS`, free text (descriptions, given addresses, notes,
comments), customers' photos (their bytes; the facts of the photo stay), the URLs photos
were fetched from, clues not tied to a customer record (a phone, e-mail or account number
that is not the placed customer's own), finished messages' addresses (and the words of a
service request's messages, which may quote its rejection reason) and sign-in IPs are
erased. Tickets, times, placement and states stay: reliability indices and SLA figures
are computed from them.

Each rule is a set of column -> value-after-erasure; a row still differing from it is
pending, so a run is idempotent and an interrupted one is simply continued by the next.
Rows are erased in small batches, each its own transaction taking its rows with
`FOR UPDATE SKIP LOCKED` (a row busy now is erased next time), so no lock is held long.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from limits import parse
from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, sessionmaker

from outage.auth.enums import PrincipalKind
from outage.auth.models import AuditEntry, LoginAttempt
from outage.auth.service import forget_throttles, record
from outage.care.models import ServiceRequest, ServiceRequestEvent
from outage.db import session_scope
from outage.grid.models import Customer
from outage.intake.models import Report
from outage.intake.owners import forget_guesses
from outage.media.models import Photo, PhotoFetch
from outage.media.service import NO_BYTES
from outage.notifications.codes import WINDOW as CODE_WINDOW
from outage.notifications.codes import forget_codes
from outage.notifications.enums import DeliveryStatus
from outage.notifications.models import Notification
from outage.outbox.models import NotificationEvent
from outage.privacy import ERASED
from outage.settings import Settings

BATCH = 500
"""Rows erased per transaction."""

FINISHED = (DeliveryStatus.SENT, DeliveryStatus.DEAD, DeliveryStatus.SKIPPED)
"""Messages that will not be sent again: their address is no longer needed."""

Cutoff = Callable[[Table, datetime], ColumnElement[bool]]
"""Whether a row is old enough to lose its personal data."""


@dataclass(frozen=True)
class Rule:
    """What one table keeps after the retention period."""

    name: str
    table: Table
    old: Cutoff
    erase: Mapping[str, ColumnElement[Any]]
    """Each column with its value once erased (an expression over the row)."""

    def pending(self, cutoff: datetime) -> ColumnElement[bool]:
        """Old rows still holding something to erase."""
        differs = [self.table.c[name].is_distinct_from(value) for name, value in self.erase.items()]
        return and_(self.old(self.table, cutoff), or_(*differs))


def _table(model: type) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


_customers = _table(Customer)


def _if_tied(table: Table, column: str, own: str) -> ColumnElement[Any]:
    """The row's value when it is the placed customer's own (kept with the customer's
    record), else NULL."""
    theirs = (
        select(_customers.c[own]).where(_customers.c.id == table.c.customer_id).scalar_subquery()
    )
    return case((table.c[column] == theirs, table.c[column]), else_=null())


def _clues(table: Table) -> dict[str, ColumnElement[Any]]:
    return {
        "account_given": _if_tied(table, "account_given", "account"),
        "phone": _if_tied(table, "phone", "phone"),
        "email": _if_tied(table, "email", "email"),
        "address_given": null(),
        "description": null(),
    }


def _received_before(table: Table, cutoff: datetime) -> ColumnElement[bool]:
    return table.c.received_at < cutoff


def _closed_before(table: Table, cutoff: datetime) -> ColumnElement[bool]:
    return table.c.closed_at < cutoff


def _of_requests_closed_before(table: Table, cutoff: datetime) -> ColumnElement[bool]:
    closed = _table(ServiceRequest)
    return and_(
        table.c.at < cutoff,
        table.c.request_id.in_(select(closed.c.id).where(closed.c.closed_at < cutoff)),
    )


def _of_closed_requests(table: Table, cutoff: datetime) -> ColumnElement[bool]:
    """Outbox events of requests closed before the cutoff (each came before its closing)."""
    closed = _table(ServiceRequest)
    return table.c.service_request_id.in_(select(closed.c.id).where(closed.c.closed_at < cutoff))


def _finished_before(table: Table, cutoff: datetime) -> ColumnElement[bool]:
    return and_(table.c.created_at < cutoff, table.c.status.in_([s.value for s in FINISHED]))


def _at_before(table: Table, cutoff: datetime) -> ColumnElement[bool]:
    return table.c.at < cutoff


def _created_before(table: Table, cutoff: datetime) -> ColumnElement[bool]:
    return table.c.created_at < cutoff


def _of_reports_before(table: Table, cutoff: datetime) -> ColumnElement[bool]:
    """A customer's photo (of a report; a crew's of an incident alone is a work record)."""
    return and_(table.c.created_at < cutoff, table.c.report_id.is_not(None))


def _rules() -> tuple[Rule, ...]:
    reports, requests = _table(Report), _table(ServiceRequest)
    events, messages = _table(ServiceRequestEvent), _table(Notification)
    outbox = _table(NotificationEvent)
    return (
        Rule("reports", reports, _received_before, {**_clues(reports), "zalo_user_id": null()}),
        Rule(
            "service_requests",
            requests,
            _closed_before,
            {
                **_clues(requests),
                "details": type_coerce(literal({}, JSONB), JSONB),
                "rating_comment": null(),
                "rejection_reason": case(
                    (requests.c.rejection_reason.is_(None), null()), else_=literal(ERASED)
                ),
            },
        ),
        Rule(
            "service_request_events",
            events,
            _of_requests_closed_before,
            {"note": null(), "chain_salt": null()},
        ),
        Rule(
            "request_update_events",
            outbox,
            _of_closed_requests,
            {"details": outbox.c.details.op("-")(literal("reason"))},
        ),
        Rule(
            "notifications",
            messages,
            _finished_before,
            {
                "address": literal(ERASED),
                "last_error": null(),
                "body": case(
                    (messages.c.service_request_id.is_(None), messages.c.body),
                    else_=literal(ERASED),
                ),
                "chain_salt": null(),
            },
        ),
        Rule("audit_log", _table(AuditEntry), _at_before, {"client_ip": null()}),
        Rule("login_attempts", _table(LoginAttempt), _at_before, {"client_ip": null()}),
        Rule(
            "photos", _table(Photo), _of_reports_before, {"data": NO_BYTES, "thumbnail": NO_BYTES}
        ),
        Rule("photo_fetches", _table(PhotoFetch), _created_before, {"url": literal(ERASED)}),
    )


RULES = _rules()


def cutoff_of(now: datetime, retention: timedelta) -> datetime:
    """Personal data that came before this time is due for erasure."""
    return now - retention


def count_pending(session: Session, cutoff: datetime) -> dict[str, int]:
    """Rows per table that a purge would erase now (what `--dry-run` prints)."""
    return {
        rule.name: session.scalar(
            select(func.count()).select_from(rule.table).where(rule.pending(cutoff))
        )
        or 0
        for rule in RULES
    }


def erase_batch(
    session: Session, rule: Rule, cutoff: datetime, *, after_id: int, limit: int = BATCH
) -> list[int]:
    """Erase up to `limit` pending rows with ids above `after_id`; their ids, ascending."""
    table = rule.table
    chosen = (
        select(table.c.id)
        .where(table.c.id > after_id, rule.pending(cutoff))
        .order_by(table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    done = session.scalars(
        update(table).where(table.c.id.in_(chosen)).values(dict(rule.erase)).returning(table.c.id)
    )
    return sorted(done)


def _batches(
    sessions: sessionmaker[Session], rule: Rule, cutoff: datetime, limit: int
) -> Iterator[int]:
    """Erase a table batch by batch, each in a transaction of its own; yield each count."""
    after = 0
    while True:
        with session_scope(sessions) as session:
            ids = erase_batch(session, rule, cutoff, after_id=after, limit=limit)
        if not ids:
            return
        after = ids[-1]
        yield len(ids)


def purge(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    retention: timedelta,
    actor: str,
    limit: int = BATCH,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Erase everything older than the retention period; rows erased per table.

    The run is written to the audit log (with the counts) once done. `progress` hears
    each batch: the table and how many rows it erased.
    """
    cutoff = cutoff_of(now, retention)
    counts = dict.fromkeys((rule.name for rule in RULES), 0)
    for rule in RULES:
        for done in _batches(sessions, rule, cutoff, limit):
            counts[rule.name] += done
            if progress is not None:
                progress(rule.name, done)
    with session_scope(sessions) as session:
        record(
            session,
            actor=actor,
            actor_kind=PrincipalKind.STAFF,
            action="privacy.purge",
            details={
                "retention_days": retention.days,
                "cutoff": cutoff.isoformat(),
                "erased": counts,
            },
        )
    return counts


def forget_counters(session: Session, now: datetime, settings: Settings) -> int:
    """Sign-in throttles, ticket-guess counts and alert codes past their windows: they
    hold client addresses or contacts and no longer count for anything. How many were
    dropped."""
    guess_window = timedelta(seconds=parse(settings.status_check_limit).get_expiry())
    login_window = settings.login_window_minutes
    code_window = max(CODE_WINDOW, settings.subscription_code_minutes)
    return (
        forget_guesses(session, before=now - guess_window)
        + forget_throttles(session, before=now - login_window)
        + forget_codes(session, before=now - code_window)
    )
