"""How many messages a customer gets in a storm: a seeded set of outages, each with its
first ETR, small ETR drifts, one real ETR change and its restoration.

The outages sit on fuses of the sample grid that do not overlap. Their changes run through
the incidents' own functions; the fan-out runs on a simulated clock (events are stamped
with the simulated time, so every wait is measured in event time), and delivery is
simulated: a message is sent when due, or skipped when it no longer holds, as the worker
does. The goal: at most `GOAL` messages for an outage with one ETR change: the notice
with its ETR, the change, and power back (which asks "still out?" itself) make three; an
outage whose first ETR comes after the first notice's wait costs its customers one more
(`within_goal_share` says how many kept to it).
"""

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import mean
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from benchmarks.harness import bench_database, percentile
from dispatch.etr import EtrSource
from grid_topology.model import DeviceKind
from grid_topology.topology import Topology, devices_of_kinds
from outage.db import session_factory, session_scope
from outage.grid.service import load_network
from outage.incidents.changes import open_incident, restore, set_etr
from outage.incidents.lifecycle import ACTIVE
from outage.notifications.enums import DeliveryStatus
from outage.notifications.events import WHILE_OUT
from outage.notifications.fanout import Fanout
from outage.notifications.models import Notification
from outage.outbox.models import NotificationEvent
from outage.settings import get_settings

SEED = 20261206
GOAL = 4
"""Messages per customer for an outage with one ETR change."""
DRIFTS = (timedelta(minutes=8), timedelta(minutes=-5))
"""Small ETR moves, each within the threshold, that customers should not hear of."""


@dataclass(frozen=True)
class _Step:
    at: datetime
    fuse: str
    action: str
    etr: datetime | None = None


def _fuses(session: Session, count: int) -> list[str]:
    """Fuses with customers, none below another."""
    topology = Topology(load_network(session))
    counts = topology.customer_counts()
    chosen: list[str] = []
    taken: set[str] = set()
    fuses = sorted(
        ref
        for ref in devices_of_kinds(topology.network.links, {DeviceKind.FUSE})
        if counts.get(ref, 0) > 0
    )
    for fuse in fuses:
        below = set(topology.downstream(fuse).devices) | {fuse}
        above = set(topology.upstream(fuse).devices)
        if (below | above) & taken:
            continue
        chosen.append(fuse)
        taken |= below | {fuse}
        if len(chosen) == count:
            break
    return chosen


def _script(fuses: list[str], start: datetime, rng: random.Random) -> list[_Step]:
    """Each outage's timeline, all of them interleaved in time order."""
    steps = []
    for fuse in fuses:
        opened = start + timedelta(minutes=rng.uniform(0, 10))
        etr = opened + timedelta(minutes=rng.uniform(90, 150))
        first = opened + timedelta(minutes=rng.uniform(0.5, 4))
        steps += [_Step(opened, fuse, "open"), _Step(first, fuse, "etr", etr)]
        at = first
        for drift in DRIFTS:
            at += timedelta(minutes=rng.uniform(3, 10))
            etr += drift
            steps.append(_Step(at, fuse, "etr", etr))
        at = opened + timedelta(minutes=rng.uniform(40, 60))
        etr += timedelta(minutes=rng.choice((-40, 45, 60)))
        steps.append(_Step(at, fuse, "etr", etr))
        steps.append(_Step(at + timedelta(minutes=rng.uniform(20, 60)), fuse, "restore"))
    return sorted(steps, key=lambda s: s.at)


def _deliver(session: Session, now: datetime) -> None:
    """What the worker does with the messages due: skip the stale ones, send the rest."""
    session.execute(
        text(
            "UPDATE notifications n SET status = :skipped FROM incidents i"
            " WHERE n.incident_id = i.id AND n.status = :pending AND n.due_at <= :now"
            " AND n.kind = ANY(:while_out) AND NOT (i.status = ANY(:active))"
        ),
        {
            "skipped": DeliveryStatus.SKIPPED.value,
            "pending": DeliveryStatus.PENDING.value,
            "now": now,
            "while_out": sorted(k.value for k in WHILE_OUT),
            "active": sorted(s.value for s in ACTIVE),
        },
    )
    session.execute(
        update(Notification)
        .where(Notification.status == DeliveryStatus.PENDING, Notification.due_at <= now)
        .values(status=DeliveryStatus.SENT, sent_at=Notification.due_at, attempts=1)
    )


def _fan_out(session: Session, fanout: Fanout, now: datetime) -> None:
    """Stamp the new events with the simulated time, then fan every one out."""
    session.execute(
        update(NotificationEvent)
        .where(NotificationEvent.expanded_at.is_(None))
        .values(created_at=now)
    )
    while fanout.expand_next(session, now):
        pass


def _act(session: Session, step: _Step, incidents: dict[str, int], customers: int) -> None:
    if step.action == "open":
        incidents[step.fuse] = open_incident(
            session,
            device_asset_ref=step.fuse,
            confidence=0.9,
            customers_affected=customers,
            started_at=step.at,
            reason="notify storm benchmark",
        )
    elif step.action == "etr":
        assert step.etr is not None
        set_etr(session, incidents[step.fuse], etr=step.etr, source=EtrSource.DISPATCHER)
    else:
        restore(session, incidents[step.fuse], at=step.at, reason="notify storm benchmark")


def _figures(session: Session) -> dict[str, Any]:
    sent = Notification.status == DeliveryStatus.SENT
    per_customer = session.scalars(
        select(func.count())
        .where(sent, Notification.customer_id.is_not(None))
        .group_by(Notification.customer_id)
    ).all()
    kinds = Counter(
        dict(
            session.execute(
                select(Notification.kind, func.count()).where(sent).group_by(Notification.kind)
            )
            .tuples()
            .all()
        )
    )
    skipped = session.scalar(
        select(func.count()).where(Notification.status == DeliveryStatus.SKIPPED)
    )
    total = sum(kinds.values())
    counts = [float(n) for n in per_customer]
    return {
        "customers": len(counts),
        "messages": total,
        "per_customer_mean": round(mean(counts), 2) if counts else 0.0,
        "per_customer_p50": percentile(counts, 0.5) if counts else 0.0,
        "per_customer_p90": percentile(counts, 0.9) if counts else 0.0,
        "per_customer_max": max(counts, default=0.0),
        "by_kind": {kind.value: n for kind, n in sorted(kinds.items())},
        "skipped_stale": skipped or 0,
        "goal_per_customer": GOAL,
        "within_goal_share": round(sum(n <= GOAL for n in counts) / len(counts), 3)
        if counts
        else 1.0,
    }


def run(
    admin_url: str, *, quick: bool, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    outages = 4 if quick else 30
    rng = random.Random(SEED)
    with bench_database(admin_url) as database_url:
        sessions = session_factory(database_url)
        settings = get_settings().model_copy(
            update={"database_url": database_url, "notify_quiet_hours": None}
        )
        fanout = Fanout(settings)
        with session_scope(sessions) as session:
            fuses = _fuses(session, outages)
            topology = Topology(load_network(session))
        # Everything happens in the past, so restorations are never "in the future".
        start = datetime.now(UTC) - timedelta(hours=6)
        steps = _script(fuses, start, rng)
        incidents: dict[str, int] = {}
        for done, step in enumerate(steps, 1):
            with session_scope(sessions) as session:
                _deliver(session, step.at)
                customers = len(topology.downstream(step.fuse).accounts)
                _act(session, step, incidents, customers)
            with session_scope(sessions) as session:
                _fan_out(session, fanout, step.at)
            progress("notify: storm steps", done, len(steps))
        end = steps[-1].at + timedelta(hours=1)
        with session_scope(sessions) as session:
            _fan_out(session, fanout, end)
            _deliver(session, end)
        with sessions() as session:
            figures = _figures(session)
    return {"outages": len(fuses), **figures}
