"""The periodic jobs of the engine role, on one APScheduler BackgroundScheduler.

A package registers its jobs with a function that takes the scheduler and adds them
(`scheduler.add_job(...)`); `every` wraps a unit of work in a transaction of its own so
a failing run is logged and the next one tries again. Jobs coalesce and never overlap
themselves, so a slow run is not stacked up behind. `on_notify` runs work at once when the
database notifies a channel, for what should not wait for a job's next turn.
"""

import logging
import select as io_select
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg2
from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, EVENT_SCHEDULER_START, SchedulerEvent
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from outage import clock
from outage.db import session_scope
from outage.settings import Settings

log = logging.getLogger(__name__)

LISTEN_POLL_S = 1.0
"""How often a listener looks whether it is to stop."""

Job = Callable[[BackgroundScheduler], None]
"""Adds a package's jobs to the scheduler."""

Work = Callable[[Session, datetime], object]
"""One run of a job: the session (committed afterwards) and the time now (`outage.clock`)."""


def every(
    scheduler: BackgroundScheduler,
    sessions: sessionmaker[Session],
    work: Work,
    *,
    seconds: float,
    name: str,
) -> None:
    """Run `work` in a transaction of its own every `seconds`."""
    scheduler.add_job(
        _unit(sessions, work, name),
        "interval",
        seconds=seconds,
        id=name,
        name=name,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),  # the scheduler's own time is the wall clock's
    )


def _unit(sessions: sessionmaker[Session], work: Work, name: str) -> Callable[[], None]:
    """One run of `work` in a transaction of its own; a failure is logged, not raised."""

    def run() -> None:
        try:
            with session_scope(sessions) as session:
                work(session, clock.now())
        except Exception:
            log.exception("job %s failed; it runs again on its next turn", name)

    return run


def on_notify(
    scheduler: BackgroundScheduler,
    sessions: sessionmaker[Session],
    work: Work,
    *,
    channel: str,
    name: str,
    reconnect_s: float = 1.0,
) -> None:
    """Run `work` as soon as the database notifies `channel` (one run for a burst), from a
    thread listening while the scheduler runs. A periodic job doing the same is the safety
    net for what is notified while the listener is reconnecting."""
    stop = threading.Event()
    run = _unit(sessions, work, name)

    def listen() -> None:
        while not stop.is_set():
            connection: Any = None
            try:
                connection = sessions.kw["bind"].raw_connection()
                listener: Any = connection.driver_connection  # psycopg2's, for LISTEN
                listener.autocommit = True
                listener.cursor().execute(f"LISTEN {channel}")
                while not stop.is_set():
                    ready, _, _ = io_select.select([listener], [], [], LISTEN_POLL_S)
                    if ready:
                        listener.poll()
                        listener.notifies.clear()
                        run()
            except (psycopg2.Error, DBAPIError):
                log.warning("%s lost the database; listening again in %s s", name, reconnect_s)
                stop.wait(reconnect_s)
            finally:
                if connection is not None:
                    connection.invalidate()  # a listening session does not go back to the pool

    def started(event: SchedulerEvent) -> None:
        stop.clear()
        threading.Thread(target=listen, name=name, daemon=True).start()

    scheduler.add_listener(started, EVENT_SCHEDULER_START)
    scheduler.add_listener(lambda event: stop.set(), EVENT_SCHEDULER_SHUTDOWN)


def build_scheduler(
    sessions: sessionmaker[Session], settings: Settings, jobs: Sequence[Job]
) -> BackgroundScheduler:
    """A scheduler (not started) holding every registered job; times in UTC."""
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"misfire_grace_time": 60})
    for register in jobs:
        register(scheduler)
    log.info("scheduler holds %d jobs (%s)", len(scheduler.get_jobs()), settings.local_timezone.key)
    return scheduler
