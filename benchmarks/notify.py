"""An outage of N customers, from the incident's commit to the last message at the gateway.

The sample grid's largest feeder gets synthetic customers (each a premise beside an
existing one, so on the same transformer) until N are downstream of its head breaker.
Delivery workers run in a process of their own, as in `outage serve --role engine`,
against a local HTTP SMS sink that keeps one message per idempotency key. The incident
opens on the breaker; the clock stops when the sink holds a message for every
customer downstream. `duplicates` counts messages the sink received twice, `lost` the
customers it never heard of.
"""

import multiprocessing
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from benchmarks import notify_storm
from benchmarks.harness import bench_database
from grid_topology.topology import Topology
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Premise
from outage.grid.service import load_network
from outage.incidents.changes import open_incident
from outage.notifications.delivery import work
from outage.notifications.sink import running_sink
from outage.settings import get_settings

WORKERS = 2
"""Delivery worker threads in the worker process (one per core here)."""
TIMEOUT_S = 300.0
BATCH = 2000


def _largest_feeder(session: Session) -> tuple[str, frozenset[str]]:
    topology = Topology(load_network(session))
    counts = topology.customer_counts()
    heads = session.scalars(
        text("SELECT d.asset_ref FROM feeders f JOIN devices d ON d.id = f.head_device_id")
    ).all()
    head = max(heads, key=lambda ref: counts.get(ref, 0))
    return head, topology.downstream(head).accounts


def _grow(session: Session, accounts: frozenset[str], target: int) -> int:
    """Synthetic customers beside the existing ones until `target` are downstream."""
    missing = target - len(accounts)
    if missing <= 0:
        return len(accounts)
    templates = session.execute(
        select(Premise.node_id, Premise.transformer_id, Premise.feeder_id, Premise.geom)
        .join(Customer, Customer.premise_id == Premise.id)
        .where(Customer.account.in_(sorted(accounts)))
        .order_by(Premise.id)
    ).all()
    for start in range(0, missing, BATCH):
        numbers = range(start, min(missing, start + BATCH))
        premises = [
            {
                "ref": f"bench-premise-{n}",
                "node_id": templates[n % len(templates)].node_id,
                "transformer_id": templates[n % len(templates)].transformer_id,
                "feeder_id": templates[n % len(templates)].feeder_id,
                "address": f"{n} Bench Street",
                "geom": templates[n % len(templates)].geom,
            }
            for n in numbers
        ]
        ids = session.scalars(insert(Premise).values(premises).returning(Premise.id)).all()
        session.execute(
            insert(Customer).values(
                [
                    {
                        "account": f"BENCH-{n}",
                        "premise_id": premise_id,
                        "name": f"Bench customer {n}",
                        "phone": f"+8490{n:07d}",
                        "language": "vi" if n % 5 else "en",
                    }
                    for n, premise_id in zip(numbers, ids, strict=True)
                ]
            )
        )
    return target


def run(
    admin_url: str, *, quick: bool, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    target = 1_000 if quick else 10_000
    with bench_database(admin_url) as database_url, running_sink() as sink:
        sessions = session_factory(database_url)
        with session_scope(sessions) as session:
            head, accounts = _largest_feeder(session)
            customers = _grow(session, accounts, target)
        settings = get_settings().model_copy(
            update={
                "database_url": database_url,
                "notify_sms_url": sink.apprise_url("sms"),
                "notify_email_url": None,
                "notify_webhook_url": None,
                "notify_quiet_hours": None,
                "notify_first_etr_wait_minutes": timedelta(0),  # timed to delivery, not to a wait
            }
        )
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        workers = context.Process(
            target=work, args=(database_url, settings, WORKERS, ready), daemon=True
        )
        workers.start()
        try:
            ready.wait(TIMEOUT_S)
            with session_scope(sessions) as session:
                open_incident(
                    session,
                    device_asset_ref=head,
                    confidence=0.9,
                    customers_affected=customers,
                    started_at=datetime.now(UTC) - timedelta(minutes=1),
                    reason="notify benchmark",
                )
            started = time.perf_counter()
            delivered = 0
            while delivered < customers and time.perf_counter() - started < TIMEOUT_S:
                time.sleep(0.05)
                delivered = len(sink.state.messages)
                progress("notify: delivered", delivered, customers)
            seconds = time.perf_counter() - started
        finally:
            workers.kill()
            workers.join()
        received = {key.split(":")[1] for key in sink.received()}
    return {
        "customers": customers,
        "seconds_to_all": round(seconds, 2),
        "per_s": round(len(received) / seconds, 1),
        "duplicates": sink.state.repeats,
        "lost": customers - len(received),
        "storm": notify_storm.run(admin_url, quick=quick, progress=progress),
    }
