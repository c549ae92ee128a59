"""The system's Chromium driven by Playwright against a live server on the sample grid.

Never downloads a browser: without Debian's `chromium` or the `playwright` package
(dev extra) the browser tests skip.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from grid_topology.geojson import read_grid
from grid_topology.model import GridModel
from outage.db import session_factory, session_scope
from outage.grid.service import save_grid
from outage.settings import get_settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
"""Screenshots land here (git-ignored)."""


@pytest.fixture(scope="session")
def screenshots() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no system Chromium (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (the dev extra has it)"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def sample_grid() -> GridModel:
    return read_grid(get_settings().sample_grid)


@pytest.fixture(scope="session")
def grid_database(database_url: str, sample_grid: GridModel) -> str:
    """The shared test database with the sample grid (saving it again changes nothing)."""
    with session_scope(session_factory(database_url)) as session:
        save_grid(session, sample_grid)
    return database_url


@pytest.fixture(scope="session")
def live_server(grid_database: str) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a background thread."""
    import uvicorn

    from outage.app import create_app

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(grid_database), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="live-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
