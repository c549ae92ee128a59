"""Delivery workers: fan events out, claim due messages, send them, record the outcome.

Several workers (threads or processes, on any machine) may run at once. A worker claims
a batch with `FOR UPDATE SKIP LOCKED`, marking each message `sending` with a lease
(`next_attempt_at` = now + `notify_lease_seconds`) and counting the attempt, commits,
sends the batch concurrently, and records every outcome in one more transaction: `sent`;
or, after a failure, `pending` again with an exponential backoff; or `dead` with the
reason once `notify_max_attempts` are spent. Records are guarded by the claim
(`claimed_by`), so a worker whose lease ran out cannot overwrite its successor's. Due
times are the service's clock's (`outage.clock`); the lease and the back-off are waits
in wall time (a worker and a gateway take real seconds), stretched to that clock's speed.

The remaining window: a worker that dies after the gateway accepted a message and before
its outcome is recorded leaves the message `sending`; when the lease runs out another
worker sends it again. The gateway receives the delivery key as an idempotency key
(`Idempotency-Key`, `X-Delivery-Key` in e-mail): a gateway that honours it (our HTTP
sink does, as do most SMS APIs) drops the repeat, so the customer gets one message. A
gateway that ignores the key (plain SMTP) may deliver that message twice: at most the
messages of one unrecorded batch (`notify_batch`), and only after a crash.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from outage.clock import Clock
from outage.db import session_factory, session_scope
from outage.grid.live import shared_topology
from outage.incidents.models import Incident
from outage.notifications.channels import DeliveryFailed, Gateways, Outgoing
from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.events import backoff, is_stale
from outage.notifications.fanout import Fanout, stop_link
from outage.notifications.models import PlannedOutage
from outage.outbox.enums import EventKind
from outage.settings import Settings

log = logging.getLogger(__name__)

FANOUT_PER_ROUND = 10
"""Events a worker fans out before it sends a batch of what is due."""

# The statuses these statements name are bound from the enum, not spelled in the SQL.
_NEXT_KEY = text(
    "SELECT substation_id FROM notifications"
    " WHERE status IN (:pending, :sending) AND next_attempt_at <= :now"
    " AND substation_id <> ALL(:tried) ORDER BY next_attempt_at LIMIT 1"
).bindparams(pending=DeliveryStatus.PENDING.value, sending=DeliveryStatus.SENDING.value)
"""The substation key of the longest waiting message due, of the keys not tried yet: a
claim locks the messages of one key at a time, which Citus can do on a distributed table.
One row by the index of due messages, where listing every key with messages due would read
them all, a million in a storm."""

_CLAIM = text(
    """
    UPDATE notifications AS n
    SET status = :sending, claimed_by = :worker, claimed_at = :now,
        next_attempt_at = :lease_end, attempts = n.attempts + 1, updated_at = :now
    WHERE n.substation_id = :key AND n.id IN (
        SELECT id FROM notifications
        WHERE substation_id = :key AND status IN (:pending, :sending) AND next_attempt_at <= :now
        ORDER BY next_attempt_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED)
    RETURNING n.id, n.substation_id, n.incident_id, n.planned_outage_id, n.kind, n.channel,
              n.address, n.subject, n.body, n.delivery_key, n.attempts, n.stop_token
    """
).bindparams(pending=DeliveryStatus.PENDING.value, sending=DeliveryStatus.SENDING.value)

_GIVE_UP = text(
    "UPDATE notifications SET status = :status, last_error = :reason, updated_at = :now"
    " WHERE substation_id = :key AND id = :nid AND status = :sending AND claimed_by = :worker"
).bindparams(sending=DeliveryStatus.SENDING.value)

_SENT = text(
    "UPDATE notifications SET status = :sent, sent_at = :now, last_error = NULL,"
    " updated_at = :now WHERE substation_id = ANY(:keys) AND id = ANY(:ids)"
    " AND status = :sending AND claimed_by = :worker"
).bindparams(sent=DeliveryStatus.SENT.value, sending=DeliveryStatus.SENDING.value)

_RETRY = text(
    "UPDATE notifications SET status = :status, next_attempt_at = :next, last_error = :reason,"
    " updated_at = :now"
    " WHERE substation_id = :key AND id = :nid AND status = :sending AND claimed_by = :worker"
).bindparams(sending=DeliveryStatus.SENDING.value)


@dataclass(frozen=True)
class Claimed:
    id: int
    substation_id: int
    incident_id: int | None
    planned_outage_id: int | None
    kind: EventKind
    attempts: int
    message: Outgoing


@dataclass(frozen=True)
class Round:
    """What one pass of a worker did."""

    expanded: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def idle(self) -> bool:
        return not (self.expanded or self.sent or self.failed or self.skipped)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """One delivery worker; `run_forever` in a thread, or `run_once` from a test."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        gateways: Gateways | None = None,
        fanout: Fanout | None = None,
        name: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.gateways = gateways or Gateways.from_settings(settings)
        self.fanout = fanout or Fanout(settings)
        self.name = name or worker_name()
        self.clock = Clock.of(settings)

    def expand(self, now: datetime | None = None, *, limit: int | None = None) -> int:
        """Fan out the events that are free, at most `limit` of them; each in a transaction
        of its own."""
        done = 0
        while limit is None or done < limit:
            with session_scope(self.sessions) as session:
                if not self.fanout.expand_next(session, now or self.clock.now()):
                    return done
            done += 1
        return done

    def claim(self, now: datetime | None = None) -> tuple[list[Claimed], int]:
        """Take a batch of due messages; answers them and how many were skipped as stale."""
        now = now or self.clock.now()
        lease_end = now + self.clock.span(self.settings.notify_lease_seconds)
        with session_scope(self.sessions) as session:
            rows: list[Any] = []
            tried: list[int] = []
            while (
                len(rows) < self.settings.notify_batch
                and (key := session.scalar(_NEXT_KEY, {"now": now, "tried": tried})) is not None
            ):
                tried.append(key)
                rows += session.execute(
                    _CLAIM,
                    {
                        "key": key,
                        "worker": self.name,
                        "now": now,
                        "lease_end": lease_end,
                        "limit": self.settings.notify_batch - len(rows),
                    },
                ).all()
            claimed = [
                Claimed(
                    id=row.id,
                    substation_id=row.substation_id,
                    incident_id=row.incident_id,
                    planned_outage_id=row.planned_outage_id,
                    kind=EventKind(row.kind),
                    attempts=row.attempts,
                    message=Outgoing(
                        DeliveryChannel(row.channel),
                        row.address,
                        row.subject,
                        row.body,
                        row.delivery_key,
                        stop_link(self.settings, row.stop_token) if row.stop_token else None,
                    ),
                )
                for row in rows
            ]
            dropped = self._drop(session, claimed, now)
        return [c for c in claimed if c.id not in dropped], len(dropped)

    def _drop(self, session: Session, claimed: Sequence[Claimed], now: datetime) -> set[int]:
        """Give up on what no longer holds, or was tried too often (in the claim transaction)."""
        incidents = {c.incident_id for c in claimed if c.incident_id is not None}
        planned = {c.planned_outage_id for c in claimed if c.planned_outage_id is not None}
        incident_status = {
            row.id: row.status
            for row in session.execute(
                select(Incident.id, Incident.status).where(Incident.id.in_(incidents))
            )
        }
        planned_status = {
            row.id: row.status
            for row in session.execute(
                select(PlannedOutage.id, PlannedOutage.status).where(PlannedOutage.id.in_(planned))
            )
        }
        dropped: dict[int, tuple[DeliveryStatus, str]] = {}
        keys = {c.id: c.substation_id for c in claimed}
        for c in claimed:
            if is_stale(
                c.kind,
                incident_status=incident_status.get(c.incident_id or 0),
                planned_status=planned_status.get(c.planned_outage_id or 0),
            ):
                dropped[c.id] = (
                    DeliveryStatus.SKIPPED,
                    "no longer holds: the outage is over or off",
                )
            elif c.attempts > self.settings.notify_max_attempts:
                dropped[c.id] = (DeliveryStatus.DEAD, "workers died while sending it, too often")
        if dropped:
            session.execute(
                _GIVE_UP,
                [
                    {
                        "key": keys[nid],
                        "nid": nid,
                        "status": status.value,
                        "reason": reason,
                        "worker": self.name,
                        "now": now,
                    }
                    for nid, (status, reason) in dropped.items()
                ],
            )
        return set(dropped)

    def _send(self, claimed: Claimed) -> str | None:
        try:
            self.gateways.send(claimed.message)
        except DeliveryFailed as exc:
            return str(exc) or "the gateway refused it"
        except Exception as exc:  # a gateway bug must not kill the batch: retry it later
            log.exception("sending notification %s failed", claimed.id)
            return f"{type(exc).__name__}: {exc}"
        return None

    def record(self, outcomes: Sequence[tuple[Claimed, str | None]]) -> None:
        now = self.clock.now()
        sent = [c for c, error in outcomes if error is None]
        retries = []
        for claimed, error in outcomes:
            if error is None:
                continue
            dead = claimed.attempts >= self.settings.notify_max_attempts
            wait = backoff(
                claimed.attempts,
                base=self.settings.notify_backoff_seconds,
                cap=self.settings.notify_backoff_max_seconds,
            )
            retries.append(
                {
                    "key": claimed.substation_id,
                    "nid": claimed.id,
                    "status": (DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING).value,
                    "next": now + self.clock.span(wait),
                    "reason": error[:1000],
                    "worker": self.name,
                    "now": now,
                }
            )
        with session_scope(self.sessions) as session:
            if sent:
                session.execute(
                    _SENT,
                    {
                        "keys": sorted({c.substation_id for c in sent}),
                        "ids": [c.id for c in sent],
                        "now": now,
                        "worker": self.name,
                    },
                )
            if retries:
                session.execute(_RETRY, retries)

    def run_once(self, pool: ThreadPoolExecutor | None = None) -> Round:
        """Fan out a few events, then send one batch: in a storm new events keep coming,
        and the messages already written must not wait until they stop."""
        expanded = self.expand(limit=FANOUT_PER_ROUND)
        claimed, skipped = self.claim()
        if not claimed:
            return Round(expanded=expanded, skipped=skipped)
        if pool is None:
            errors = [self._send(c) for c in claimed]
        else:
            errors = list(pool.map(self._send, claimed))
        outcomes = list(zip(claimed, errors, strict=True))
        self.record(outcomes)
        failed = sum(1 for e in errors if e is not None)
        return Round(expanded, len(claimed) - failed, failed, skipped)

    def run_forever(self, stop: threading.Event, idle_s: float = 0.5) -> None:
        """Work until `stop` is set; a database hiccup is logged and retried."""
        with ThreadPoolExecutor(self.settings.notify_concurrency) as pool:
            while not stop.is_set():
                try:
                    done = self.run_once(pool)
                except Exception:
                    log.exception("delivery worker %s: round failed", self.name)
                    stop.wait(idle_s * 4)
                    continue
                if done.idle:
                    stop.wait(idle_s)


def run_workers(
    database_url: str, settings: Settings, count: int, stop: threading.Event
) -> list[threading.Thread]:
    """Start `count` worker threads sharing the process's network (`shared_topology`);
    they stop when `stop` is set.

    The network is loaded first, so the first outage is not kept waiting for it.
    """
    sessions = session_factory(database_url)
    fanout = Fanout(settings, shared_topology(database_url))
    if count:
        with sessions() as session:
            fanout.topology.get(session)
    gateways = Gateways.from_settings(settings)
    threads = []
    for number in range(count):
        worker = Worker(sessions, settings, gateways=gateways, fanout=fanout)
        thread = threading.Thread(
            target=worker.run_forever, args=(stop,), name=f"notify-{number}", daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads


def work(database_url: str, settings: Settings, count: int = 1, ready: Any = None) -> None:
    """Run `count` workers in this process until it is interrupted or killed.

    `ready` (a multiprocessing Event, say) is set once they are up.
    """
    stop = threading.Event()
    threads = run_workers(database_url, settings, count, stop)
    if ready is not None:
        ready.set()
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        stop.set()
