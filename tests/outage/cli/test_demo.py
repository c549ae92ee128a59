"""`outage demo`: sign-ins and crews for the demo, and the whole thing as a new user runs it."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.harness import free_port
from grid_topology.model import GridModel
from outage.cli.demo import CREW_PREFIX, STAFF, stage_access
from outage.clock import Clock
from outage.db import get_engine, session_factory, session_scope
from outage.grid.service import save_grid

UP_WITHIN_S = 90.0
"""From the command to the demo's URLs: database, grid import, server start."""
LIVE_WITHIN_S = 60.0
"""From the URLs to incidents on the map and a crew on its way (the acceptance bar)."""


def _token(base: str, username: str, password: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def test_demo_access_gives_staff_crews_with_members_and_a_gateway_key(
    fresh_database_url: str, sample_grid: GridModel
) -> None:
    from outage.auth import service as auth

    with session_scope(session_factory(fresh_database_url)) as session:
        save_grid(session, sample_grid)
    access = stage_access(fresh_database_url, sample_grid, 3, Clock())
    assert access.crews == ["Crew 1", "Crew 2", "Crew 3"]
    with session_scope(session_factory(fresh_database_url)) as session:
        users = {u.username: u for u in auth.list_users(session)}
        identity = auth.key_by_secret(session, key=access.api_key)
    assert {name for name, _ in STAFF} <= users.keys()
    members = [users[f"{CREW_PREFIX}{i}"] for i in (1, 2, 3)]
    assert len({m.crew_id for m in members}) == 3
    assert identity is not None
    assert {s.value for s in identity.scopes} == {"channels", "ami", "scada"}
    get_engine(fresh_database_url).dispose()


def test_the_demo_shows_incidents_and_moving_crews_within_a_minute(database_url: str) -> None:
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="outage-demo-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OUTAGE_DATA_DIR": str(data_dir),
        "OUTAGE_SMTP_RECEIVER_PORT": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "outage", "demo", "--port", str(port), "--speed", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stderr.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        password = _wait_for_password(lines, process)
        token = _token(base, "demo-dispatcher", password)
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + LIVE_WITHIN_S
        incidents, moving = 0, False
        while time.monotonic() < deadline and not (incidents and moving):
            incidents = len(
                httpx.get(f"{base}/api/v1/incidents.geojson", headers=headers).json()["features"]
            )
            crews = httpx.get(f"{base}/api/v1/crews", headers=headers).json()
            moving = any(c["status"] in ("en_route", "on_site") for c in crews)
            time.sleep(1)
        assert incidents > 0
        assert moving
        # One clock for the demo: the storm's time, far ahead of the wall clock's.
        found = httpx.get(f"{base}/api/v1/incidents", headers=headers).json()
        began = min(datetime.fromisoformat(i["started_at"]) for i in found)
        assert began > datetime.now(UTC)
        assert httpx.get(f"{base}/dispatch", headers=headers).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        reader.join(timeout=5)
    assert code == 0, "".join(lines[-40:])
    assert any("Stopped after" in line for line in lines)


def _wait_for_password(lines: list[str], process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + UP_WITHIN_S
    while time.monotonic() < deadline:
        for line in list(lines):
            found = re.search(r"Password of every demo sign-in: (\S+)", line)
            if found:
                return found.group(1)
        assert process.poll() is None, "".join(lines[-40:])
        time.sleep(0.5)
    raise AssertionError("the demo was not up in time:\n" + "".join(lines[-40:]))
