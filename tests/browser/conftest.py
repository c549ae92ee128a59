"""The system's Chromium driven by Playwright against a live server on the sample grid.

Never downloads a browser: without Debian's `chromium` or the `playwright` package
(dev extra) the browser tests skip.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI

from outage.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

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

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
"""axe-core (MPL-2.0), vendored for these tests only; the product never serves it."""
BLOCKING = {"serious", "critical"}


def blocking_violations(page: Page) -> list[str]:
    """axe's serious and critical violations on the page: each rule with its targets (the
    page must be opened with its policy bypassed, for axe is injected inline)."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


@pytest.fixture(scope="session")
def screenshots() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="module")
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
def live_server(
    grid_database: str, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> Iterator[str]:
    with serve(create_app(grid_database)) as url:
        yield url


def focused(page: Page, incident_id: int, shown: Locator, wait_ms: float) -> None:
    """Wait for what focusing an incident on the dispatcher's map shows (its popup, its
    marker), focusing it again if a poll redrew the map during the move, as a dispatcher
    would click again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for _ in range(2):
        try:
            shown.wait_for(timeout=wait_ms / 3)
            return
        except PlaywrightTimeoutError:
            page.evaluate("(id) => OutageMaps.dispatch.focus(id)", incident_id)
    shown.wait_for(timeout=wait_ms / 3)
