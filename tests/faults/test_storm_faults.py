"""A storm replayed against a real server while PostgreSQL restarts and the SMS gateway fails.

`outage serve --role all` runs in a child process on a private cluster of its own; the
simulated customers and meters report through the HTTP channels with their idempotency
keys, retrying what gets no answer or a 5xx. Mid-storm the cluster is stopped and started
again, then the SMS gateway (the notifications' HTTP sink) refuses everything for a while.
Afterwards: every accepted report is in the database exactly once, nothing was lost, the
engine put every report on an incident, and every notification reached the gateway once.
"""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grid_topology.model import GridModel
from outage import pgcluster
from outage.notifications.sink import HttpSink, running_sink
from outage.simulation.runner import StormOptions, StormRunner, StormState

from .conftest import (
    STORM_ENV,
    UNDELIVERED,
    UNPLACED,
    play_storm,
    scalar,
    serving,
    storm_ready,
    wait_for,
)

STORM_S = 30.0
"""Wall time of the storm; what is due later is not sent."""
RESTART_AT_S = 6.0
DATABASE_DOWN_S = 3.0
GATEWAY_FAILS_AT_S = 14.0
GATEWAY_DOWN_S = 8.0
CATCH_UP_S = 40.0


def _restart(data_dir: Path) -> None:
    pgcluster.stop(data_dir)
    time.sleep(DATABASE_DOWN_S)
    pgcluster.ensure_running(data_dir, fast=True)


@pytest.fixture(scope="module")
def outcome(
    cluster: tuple[Path, str], sample_grid: GridModel
) -> Iterator[tuple[StormState, HttpSink, str]]:
    data_dir, url = cluster
    access = storm_ready(url, sample_grid)
    with running_sink() as sink:
        env = {
            **STORM_ENV,
            "OUTAGE_NOTIFY_SMS_URL": sink.apprise_url("sms"),
            "OUTAGE_NOTIFY_BACKOFF_SECONDS": "1",
            "OUTAGE_NOTIFY_BACKOFF_MAX_SECONDS": "2",
        }

        async def chaos(runner: StormRunner) -> None:
            await asyncio.sleep(RESTART_AT_S)
            await asyncio.to_thread(_restart, data_dir)
            await asyncio.sleep(max(0.0, GATEWAY_FAILS_AT_S - RESTART_AT_S - DATABASE_DOWN_S))
            sink.fail(seconds=GATEWAY_DOWN_S)
            await asyncio.sleep(STORM_S - GATEWAY_FAILS_AT_S)
            runner.stop()

        with serving("all", url, env, data_dir / "server.log") as server_url:
            options = StormOptions(faults=5, call_rate=0.3, seed=11, speed=120.0, crews=False)
            state = play_storm(server_url, access, sample_grid, options, chaos)
            wait_for(lambda: scalar(url, UNPLACED) == 0, CATCH_UP_S)
            wait_for(lambda: scalar(url, UNDELIVERED) == 0, CATCH_UP_S)
        yield state, sink, url


def test_the_faults_happened_during_the_storm(outcome: tuple[StormState, HttpSink, str]) -> None:
    state, sink, _ = outcome
    assert state.tally.retries > 0  # the restart was felt
    assert sink.state.refused > 0  # so was the gateway's failure
    assert len(state.receipts) >= 20


def test_no_report_was_lost(outcome: tuple[StormState, HttpSink, str]) -> None:
    state, _, _ = outcome
    refused = [(r.sent.status, r.sent.body) for r in state.receipts if not r.sent.accepted]
    assert refused == []


def test_every_accepted_report_is_stored_exactly_once(
    outcome: tuple[StormState, HttpSink, str],
) -> None:
    state, _, url = outcome
    tickets = [r.ticket for r in state.receipts]
    assert all(tickets)
    assert len(set(tickets)) == len(tickets)
    stored = scalar(url, "SELECT count(*) FROM reports WHERE ticket = ANY(:t)", t=tickets)
    assert stored == len(tickets)
    assert scalar(url, "SELECT count(*) FROM reports") == len(tickets)


def test_every_last_gasp_is_stored_once(outcome: tuple[StormState, HttpSink, str]) -> None:
    state, _, url = outcome
    assert state.gasps > 0
    assert scalar(url, "SELECT count(*) FROM meter_events") == state.gasps


def test_the_engine_caught_up_with_every_report(outcome: tuple[StormState, HttpSink, str]) -> None:
    state, _, url = outcome
    assert scalar(url, UNPLACED) == 0
    reported = {r.contact.fault for r in state.receipts if r.contact.fault}
    devices = scalar(
        url,
        "SELECT count(DISTINCT d.asset_ref) FROM incidents i JOIN devices d"
        " ON d.id = i.device_id WHERE d.asset_ref = ANY(:faults)",
        faults=sorted(reported),
    )
    assert devices >= len(reported) // 2


def test_every_notification_reached_the_gateway_once(
    outcome: tuple[StormState, HttpSink, str],
) -> None:
    _, sink, url = outcome
    sent = scalar(url, "SELECT count(*) FROM notifications WHERE status = 'sent'")
    assert sent > 0
    assert scalar(url, "SELECT count(*) FROM notifications WHERE status <> 'sent'") == 0
    assert len(sink.received()) == sent
    assert sink.state.repeats == 0
