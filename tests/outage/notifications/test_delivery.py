"""From incident to gateway: fan-out, delivery, retries, dead letters, crashed workers."""

import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_scope
from outage.grid.regions import UNPLACED, substations_of_customers
from outage.incidents.actions import apply_action
from outage.incidents.changes import restore, update_prediction
from outage.incidents.enums import Action
from outage.incidents.schemas import IncidentPatch
from outage.notifications.delivery import FANOUT_PER_ROUND, Worker, work
from outage.notifications.enums import DeliveryStatus
from outage.notifications.models import Notification
from outage.notifications.sink import HttpSink
from outage.outbox.enums import EventKind
from outage.settings import Settings
from tests.conftest import make_crew

from .conftest import Drain, Grid, customer_ids, messages_of


def _keys_by_customer(sink: HttpSink) -> Counter[str]:
    return Counter(key.split(":")[1] for key in sink.received())


def test_a_predicted_outage_reaches_every_downstream_customer_once(
    sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        downstream = customer_ids(session, grid.accounts[grid.fuse])
        sent = messages_of(session, incident)
    assert {m.customer_id for m in sent} == set(downstream)
    assert all(m.status is DeliveryStatus.SENT for m in sent)
    received = sink.received()
    assert len(received) == len(downstream) and sink.state.repeats == 0
    assert {payload["to"] for payload in received.values()} == {m.address for m in sent}


def test_a_move_to_a_bigger_device_tells_only_the_customers_not_told_yet(
    sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    with session_scope(sessions) as session:
        update_prediction(
            session, incident, device_asset_ref=grid.breaker, reason="more calls upstream"
        )
    drain()
    with sessions() as session:
        everyone = customer_ids(session, grid.accounts[grid.breaker])
        sent = messages_of(session, incident)
    assert Counter(m.customer_id for m in sent) == Counter(set(everyone))
    assert len(sink.received()) == len(everyone)


def test_a_failing_gateway_gets_everything_later(
    sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid, open_outage
) -> None:
    sink.fail(requests=3)
    incident = open_outage(grid.fuse)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        drain()
        with sessions() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status != DeliveryStatus.SENT)
            )
        if not waiting:
            break
        time.sleep(0.1)
    with sessions() as session:
        sent = messages_of(session, incident)
    assert sink.state.refused > 0
    assert all(m.status is DeliveryStatus.SENT for m in sent)
    assert max(m.attempts for m in sent) > 1
    assert len(sink.received()) == len(sent) == len(grid.accounts[grid.fuse])


def test_a_gateway_that_keeps_failing_dead_letters_with_the_reason(
    sessions: sessionmaker[Session],
    settings: Settings,
    sink: HttpSink,
    grid: Grid,
    open_outage,
) -> None:
    sink.fail(seconds=60)
    worker = Worker(sessions, settings.model_copy(update={"notify_max_attempts": 2}))
    incident = open_outage(grid.fuse)
    for _ in range(40):
        worker.run_once()
        time.sleep(0.05)
        with sessions() as session:
            statuses = {m.status for m in messages_of(session, incident)}
        if statuses == {DeliveryStatus.DEAD}:
            break
    with sessions() as session:
        dead = messages_of(session, incident)
    assert {m.status for m in dead} == {DeliveryStatus.DEAD}
    assert all(m.attempts == 2 and "503" in (m.last_error or "") for m in dead)
    assert not sink.received()


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    sessions: sessionmaker[Session],
    settings: Settings,
    sink: HttpSink,
    drain: Drain,
    grid: Grid,
    open_outage,
) -> None:
    sink.state.delay_s = 0.05
    short_lease = settings.model_copy(
        update={
            "notify_lease_seconds": timedelta(seconds=1),
            "notify_concurrency": 2,
            "notify_batch": 1000,
        }
    )
    incident = open_outage(grid.breaker)
    expected = len(grid.accounts[grid.breaker])
    process = multiprocessing.get_context("spawn").Process(
        target=work, args=(short_lease.database_url, short_lease, 1)
    )
    process.start()
    deadline = time.monotonic() + 60
    while len(sink.received()) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.kill()
    process.join()
    with sessions() as session:
        unrecorded = session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.status == DeliveryStatus.SENDING)
        )
    assert unrecorded and len(sink.received()) < expected
    sink.state.delay_s = 0
    time.sleep(1.1)  # the dead worker's lease runs out
    drain(using=Worker(sessions, short_lease))
    with sessions() as session:
        sent = messages_of(session, incident)
    assert {m.status for m in sent} == {DeliveryStatus.SENT}
    assert len(sent) == expected
    assert set(_keys_by_customer(sink).values()) == {1}
    assert len(sink.received()) == expected
    assert sink.state.repeats > 0  # resent after the crash, and dropped by its key


def test_two_workers_at_once_send_each_message_once(
    sessions: sessionmaker[Session], settings: Settings, sink: HttpSink, grid: Grid, open_outage
) -> None:
    import threading

    small = settings.model_copy(update={"notify_batch": 25})
    incident = open_outage(grid.breaker)
    workers = [Worker(sessions, small) for _ in range(2)]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run_forever, args=(stop, 0.05)) for w in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    expected = len(grid.accounts[grid.breaker])
    while len(sink.received()) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    with sessions() as session:
        sent = messages_of(session, incident)
    assert len(sink.received()) == expected and sink.state.repeats == 0
    assert {m.status for m in sent} == {DeliveryStatus.SENT}
    assert len({m.claimed_by for m in sent}) == 2


def test_messages_written_are_sent_while_more_events_wait_to_be_fanned_out(
    sessions: sessionmaker[Session], sink: HttpSink, worker: Worker, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    worker.expand()
    with session_scope(sessions) as session:
        for minutes in range(FANOUT_PER_ROUND + 3):
            etr = datetime.now(UTC) + timedelta(hours=2, minutes=30 * minutes)
            apply_action(session, incident, IncidentPatch(action=Action.SET_ETR, etr=etr), "test")
    done = worker.run_once()
    assert done.expanded == FANOUT_PER_ROUND
    assert done.sent == len(grid.accounts[grid.fuse])
    assert len(sink.received()) == done.sent


def test_messages_for_an_outage_already_restored_are_skipped(
    sessions: sessionmaker[Session], sink: HttpSink, worker: Worker, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    worker.expand()
    with session_scope(sessions) as session:
        restore(session, incident, at=datetime.now(UTC), reason="SCADA: closed")
    while not worker.run_once().idle:
        pass
    with sessions() as session:
        by_kind = Counter((m.kind, m.status) for m in messages_of(session, incident))
    customers = len(grid.accounts[grid.fuse])
    assert by_kind[(EventKind.OUTAGE_DETECTED, DeliveryStatus.SKIPPED)] == customers
    assert by_kind[(EventKind.RESTORED, DeliveryStatus.SENT)] == customers
    assert {p["message"][:8] for p in sink.received().values()} != set()


def test_a_partial_restoration_tells_only_the_customers_below_the_restored_device(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.breaker, customers_affected=len(grid.accounts[grid.breaker]))
    with session_scope(sessions) as session:
        apply_action(session, incident, IncidentPatch(action=Action.CONFIRM), "test")
        assign = IncidentPatch(action=Action.ASSIGN, crew_id=make_crew(session))
        apply_action(session, incident, assign, "test")
        apply_action(session, incident, IncidentPatch(action=Action.ON_SITE), "test")
    drain()
    with session_scope(sessions) as session:
        patch = IncidentPatch(
            action=Action.PARTIAL_RESTORE,
            restored_device=grid.fuse,
            at=datetime.now(UTC) - timedelta(seconds=5),
        )
        apply_action(session, incident, patch, "test")
    drain()
    with sessions() as session:
        restored = {
            m.customer_id for m in messages_of(session, incident) if m.kind is EventKind.RESTORED
        }
        below = set(customer_ids(session, grid.accounts[grid.fuse]))
    assert restored == below


def test_one_claim_takes_due_messages_of_several_substation_keys(
    sessions: sessionmaker[Session], worker: Worker, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    worker.expand()
    with session_scope(sessions) as session:
        ids = sorted(m.id for m in messages_of(session, incident))
        session.execute(
            update(Notification).where(Notification.id.in_(ids[::2])).values(substation_id=99)
        )
    claimed, _ = worker.claim()
    assert sorted(c.id for c in claimed) == ids
    assert len({c.substation_id for c in claimed}) == 2


def test_a_message_is_keyed_by_its_customers_substation(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        sent = messages_of(session, incident)
        homes = substations_of_customers(session, {m.customer_id for m in sent if m.customer_id})
    assert sent and all(m.substation_id == homes[m.customer_id] != UNPLACED for m in sent)
