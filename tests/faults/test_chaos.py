"""A storm replayed while the background work is killed at random points, with a poison
event in the outbox.

`outage serve --role api` answers the customers; `outage serve --role engine` (the
prediction engine, the dispatch planner and the delivery workers) is killed with SIGKILL
at random moments of the storm and started again each time. Mid-storm an ETR event that
no message can show is written to the outbox, as a row from before its value was checked
would be. Afterwards every accepted report is stored once, every deliverable message
reached the gateway once, and the poison event is dead-lettered with its reason.
"""

import asyncio
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from benchmarks.harness import free_port
from grid_topology.model import GridModel
from outage.db import session_factory, session_scope
from outage.notifications.sink import HttpSink, running_sink
from outage.simulation.runner import StormOptions, StormRunner, StormState
from tests.conftest import make_crew

from .conftest import (
    STORM_ENV,
    UNPLACED,
    play_storm,
    scalar,
    serving,
    start_serve,
    storm_ready,
    wait_for,
    wait_until_quiet,
)

STORM_S = 30.0
KILLS = 4
"""How often the engine process is killed during the storm."""
POISON_AT_S = 8.0
CATCH_UP_S = 60.0
QUIET_S = 6.0
"""Three of the planner's rounds without a new event: the engine's work is done."""
POISON_ETR = "9999-12-31T20:00:00+00:00"

ENV = {
    **STORM_ENV,
    "OUTAGE_NOTIFY_BACKOFF_SECONDS": "0.5",
    "OUTAGE_NOTIFY_BACKOFF_MAX_SECONDS": "1",
    "OUTAGE_NOTIFY_LEASE_SECONDS": "3",
    "OUTAGE_DISPATCH_REPLAN_S": "2",
    "OUTAGE_DISPATCH_TIME_LIMIT_S": "1",
}
"""Quick retries and leases, so what a killed worker held comes back within the test."""


@dataclass
class Engine:
    """The `--role engine` process, killed and started again on demand."""

    database_url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0

    def start(self) -> None:
        self.process = start_serve("engine", self.database_url, self.env, self.log, free_port())

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.kills += 1
        self.start()

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)


def _poison(url: str) -> int:
    """An ETR event no message can show, on the first active incident; its id."""
    database = create_engine(url)
    try:
        with database.begin() as connection:
            return int(
                connection.scalar(
                    text(
                        "INSERT INTO notification_events (kind, incident_id, device_id, premise_id,"
                        " safety, details)"
                        " SELECT 'etr_set', id, device_id, premise_id, false,"
                        " jsonb_build_object('etr', CAST(:etr AS text))"
                        " FROM incidents WHERE status IN ('predicted', 'confirmed')"
                        " ORDER BY id LIMIT 1 RETURNING id"
                    ),
                    {"etr": POISON_ETR},
                )
            )
    finally:
        database.dispose()


@dataclass
class _Chaos:
    """Kills the engine at random moments of the storm and poisons the outbox once."""

    engine: Engine
    url: str
    seed: int
    poison: list[int] = field(default_factory=list)

    async def __call__(self, runner: StormRunner) -> None:
        chance = random.Random(self.seed)
        kill_at = sorted(chance.uniform(2.0, STORM_S - 2.0) for _ in range(KILLS))
        started = time.monotonic()
        for moment in kill_at:
            await asyncio.sleep(max(0.0, moment - (time.monotonic() - started)))
            await asyncio.to_thread(self.engine.kill)
            if not self.poison and time.monotonic() - started >= POISON_AT_S:
                await asyncio.to_thread(self._poison_when_an_incident_is_open)
        await asyncio.sleep(max(0.0, STORM_S - (time.monotonic() - started)))
        runner.stop()

    def _poison_when_an_incident_is_open(self) -> None:
        wait_for(lambda: scalar(self.url, "SELECT count(*) FROM incidents") > 0, STORM_S)
        self.poison.append(_poison(self.url))


@dataclass(frozen=True)
class Outcome:
    state: StormState
    sink: HttpSink
    url: str
    kills: int
    poison_id: int


@pytest.fixture(scope="module")
def outcome(cluster: tuple[Path, str], sample_grid: GridModel) -> Iterator[Outcome]:
    data_dir, url = cluster
    access = storm_ready(url, sample_grid)
    with session_scope(session_factory(url)) as session:
        for number in range(3):
            make_crew(session, f"chaos crew {number}")
    with running_sink() as sink:
        env = {**ENV, "OUTAGE_NOTIFY_SMS_URL": sink.apprise_url("sms")}
        engine = Engine(url, env, data_dir / "engine.log")
        engine.start()
        chaos = _Chaos(engine, url, seed=23)
        try:
            with serving("api", url, env, data_dir / "api.log") as api_url:
                options = StormOptions(faults=5, call_rate=0.3, seed=23, speed=120.0, crews=False)
                state = play_storm(api_url, access, sample_grid, options, chaos)
                if not chaos.poison:
                    chaos.poison.append(_poison(url))
                wait_for(lambda: scalar(url, UNPLACED) == 0, CATCH_UP_S)
                wait_until_quiet(url, QUIET_S, CATCH_UP_S)
        finally:
            engine.stop()
        yield Outcome(state, sink, url, engine.kills, chaos.poison[0])


def test_the_engine_was_killed_during_the_storm(outcome: Outcome) -> None:
    assert outcome.kills == KILLS
    assert len(outcome.state.receipts) >= 20


def test_every_accepted_report_is_stored_exactly_once(outcome: Outcome) -> None:
    tickets = [r.ticket for r in outcome.state.receipts]
    assert all(tickets) and len(set(tickets)) == len(tickets)
    assert scalar(outcome.url, "SELECT count(*) FROM reports") == len(tickets)


def test_the_engine_caught_up_with_every_report(outcome: Outcome) -> None:
    assert scalar(outcome.url, UNPLACED) == 0


def test_every_deliverable_message_reached_the_gateway_once(outcome: Outcome) -> None:
    sent = scalar(outcome.url, "SELECT count(*) FROM notifications WHERE status = 'sent'")
    assert sent > 0
    assert (
        scalar(
            outcome.url,
            "SELECT count(*) FROM notifications WHERE status IN ('pending', 'sending', 'dead')",
        )
        == 0
    )
    assert len(outcome.sink.received()) == sent


def test_every_event_but_the_poison_was_fanned_out(outcome: Outcome) -> None:
    stuck = scalar(
        outcome.url,
        "SELECT count(*) FROM notification_events WHERE expanded_at IS NULL AND id <> :poison",
        poison=outcome.poison_id,
    )
    assert stuck == 0


def test_the_poison_event_is_dead_lettered_with_its_reason(outcome: Outcome) -> None:
    reason = scalar(
        outcome.url,
        "SELECT count(*) FROM notification_events WHERE id = :poison AND dead_at IS NOT NULL"
        " AND last_error LIKE '%cannot be shown in local time%'",
        poison=outcome.poison_id,
    )
    assert reason == 1
