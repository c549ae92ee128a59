"""Tamper-evident records at a storm's size: how long sealing and checking take.

A storm's trail written into a fresh database: outages opened in batches as the engine
opens them, each followed by the events of a busy storm (the engine updating it, a
dispatcher confirming, a crew assigned, on its way and on site, an ETR and a cause set,
the power back), until there are `events` incident events; then every record sealed
(`outage audit seal`'s way) and the day's root made.

Figures: `events`; `seal_s`; `verify_s`, the chains and the roots checked
(`outage audit verify`'s way; goal: under 10 s for 10,000 events); the baseline
`read_s`, the same rows only read in the chains' order in the same process, and
`verify_vs_read`, the ratio of the two (the cost of hashing over that of reading); and
`broken`, chains or roots that did not verify (0).
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.harness import bench_database
from outage.db import session_factory, session_scope
from outage.grid.models import Device
from outage.incidents.changes import Opening, open_incidents
from outage.incidents.enums import AuditAction
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import IncidentEvent
from outage.ledger.chains import CHAINS
from outage.ledger.roots import check_roots, make_root
from outage.ledger.sealing import seal_all
from outage.ledger.verification import verify

Progress = Callable[[str, int, int], None]

EVENTS = 10_000
QUICK_EVENTS = 2_000
PER_INCIDENT = 20
"""Events in one outage's trail: a storm's outages are updated many times."""
BATCH = 100
"""Outages opened per transaction."""
STORM_START = datetime(2026, 10, 14, 18, 0, tzinfo=UTC)

TRAIL = [(AuditAction.UPDATED, None, None)] * 12 + [
    (AuditAction.CONFIRMED, IncidentStatus.PREDICTED, IncidentStatus.CONFIRMED),
    (AuditAction.ASSIGNED, None, None),
    (AuditAction.EN_ROUTE, IncidentStatus.CONFIRMED, IncidentStatus.EN_ROUTE),
    (AuditAction.ON_SITE, IncidentStatus.EN_ROUTE, IncidentStatus.ON_SITE),
    (AuditAction.ETR_SET, None, None),
    (AuditAction.CAUSE_SET, None, None),
    (AuditAction.RESTORED, IncidentStatus.ON_SITE, IncidentStatus.RESTORED),
]
"""What follows an outage's opening."""


def _trail(incident_id: int, opened: datetime) -> list[IncidentEvent]:
    return [
        IncidentEvent(
            incident_id=incident_id,
            at=opened + timedelta(minutes=7 * n),
            actor="engine" if action is AuditAction.UPDATED else f"dispatcher-{incident_id % 9}",
            action=action,
            from_status=before,
            to_status=after,
            reason=f"storm step {n}",
            details={"customers_affected": 40 + n, "confidence": round(0.5 + n / 50, 2)},
        )
        for n, (action, before, after) in enumerate(TRAIL, start=1)
    ]


def _storm(sessions: sessionmaker[Session], events: int, progress: Callable[[int], None]) -> None:
    outages = events // PER_INCIDENT
    with session_scope(sessions) as session:
        devices = session.scalars(select(Device.asset_ref).order_by(Device.id).limit(outages)).all()
    for first in range(0, outages, BATCH):
        with session_scope(sessions) as session:
            openings = [
                Opening(
                    confidence=0.6,
                    customers_affected=40,
                    started_at=STORM_START + timedelta(seconds=30 * n),
                    reason="calls and last gasps",
                    device_asset_ref=devices[n],
                )
                for n in range(first, min(first + BATCH, outages))
            ]
            ids = open_incidents(session, openings)
            for opening, incident_id in zip(openings, ids, strict=True):
                session.add_all(_trail(incident_id, opening.started_at))
        progress(min(first + BATCH, outages) * PER_INCIDENT)


def _read(session: Session) -> int:
    """The baseline: the chains' rows read in order, nothing computed."""
    rows = 0
    for spec in CHAINS:
        table = spec.table
        result = session.execute(
            select(*spec.columns(), table.c.chain_hash, table.c.chain_digest, table.c.chain_salt)
            .where(table.c.chain_seq.is_not(None))
            .order_by(table.c.chain_seq)
            .execution_options(yield_per=5000)
        ).mappings()
        rows += sum(1 for _ in result)
    return rows


def run(admin_url: str, *, quick: bool, progress: Progress) -> dict[str, Any]:
    events = QUICK_EVENTS if quick else EVENTS
    with bench_database(admin_url) as url:
        sessions = session_factory(url)
        _storm(sessions, events, lambda done: progress("audit: storm", done, events))

        def in_transaction(work: Callable[[Session], Any]) -> Any:
            with session_scope(sessions) as session:
                return work(session)

        now = datetime.now(UTC)
        started = time.perf_counter()
        sealed = seal_all(in_transaction, now)
        seal_s = time.perf_counter() - started
        with session_scope(sessions) as session:
            make_root(session, now.date() - timedelta(days=1), now, None)
            written = session.scalar(select(func.count()).select_from(IncidentEvent))
        progress("audit: sealed", sealed, sealed)
        started = time.perf_counter()
        with session_scope(sessions) as session:
            read = _read(session)
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        with session_scope(sessions) as session:
            checks = verify(session)
        with session_scope(sessions) as session:
            _, root_break = check_roots(session, None)
        verify_s = time.perf_counter() - started
        progress("audit: verified", read, read)
    broken = sum(check.broken is not None for check in checks) + (root_break is not None)
    return {
        "events": written,
        "sealed": sealed,
        "seal_s": round(seal_s, 2),
        "verify_s": round(verify_s, 2),
        "read_s": round(read_s, 2),
        "verify_vs_read": round(verify_s / read_s, 1) if read_s else None,
        "checked": sum(check.checked for check in checks),
        "broken": broken,
    }
