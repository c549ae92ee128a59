"""`outage serve`: whose X-Forwarded-For its HTTP server believes, and the engine regions it
refuses to start on."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from outage.app import create_app
from outage.cli import app
from outage.cli.serve import Parts, Role, parts, server_config
from outage.settings import Settings, get_settings

UNPLACEABLE = {"address": "behind the big banyan tree near the market"}
"""A report with no phone: only the per-address limit counts it."""


@contextmanager
def _served(database_url: str, settings: Settings) -> Iterator[str]:
    """The app under uvicorn configured as `outage serve` configures it, on a free port."""
    config = server_config(
        create_app(database_url, settings), "127.0.0.1", 0, settings, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _statuses(url: str) -> list[int]:
    """Three anonymous reports, each claiming another address in X-Forwarded-For."""
    with httpx.Client(base_url=url) as client:
        return [
            client.post(
                "/api/v1/reports", json=UNPLACEABLE, headers={"X-Forwarded-For": f"1.2.3.{n}"}
            ).status_code
            for n in range(3)
        ]


def test_forwarded_for_is_ignored_by_default_so_limits_count_the_real_address(
    grid_database: str,
) -> None:
    settings = get_settings().model_copy(update={"rate_limit_per_ip": "2/minute"})
    with _served(grid_database, settings) as url:
        assert _statuses(url) == [201, 201, 429]


def test_forwarded_for_from_a_trusted_proxy_is_the_client_address(grid_database: str) -> None:
    settings = Settings.model_validate(
        {
            **get_settings().model_dump(),
            "rate_limit_per_ip": "2/minute",
            "trusted_proxies": ["127.0.0.0/8"],
        }
    )
    with _served(grid_database, settings) as url:
        assert _statuses(url) == [201, 201, 201]


@pytest.fixture
def regions_cli(
    regions_database: str, engine_regions: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """`outage` on the grid of two regions, with the regions named."""
    monkeypatch.setenv("DATABASE_URL", regions_database)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_an_engine_region_not_configured_is_refused(regions_cli: None) -> None:
    refused = CliRunner().invoke(app, ["serve", "--role", "engine", "--region", "3"])
    assert refused.exit_code == 2
    assert "no region 3" in refused.output


def test_engine_regions_naming_a_substation_we_do_not_have_are_refused(
    regions_cli: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTAGE_ENGINE_REGIONS", '{"1": ["North", "Atlantis"]}')
    get_settings.cache_clear()
    refused = CliRunner().invoke(app, ["serve", "--role", "engine", "--region", "1"])
    assert refused.exit_code == 2
    assert "Atlantis" in refused.output


@pytest.mark.parametrize(
    ("role", "jobs", "expected"),
    [
        (Role.all, True, Parts(http=True, mail=True, engine=True, jobs=True)),
        (Role.api, True, Parts(http=True, mail=False, engine=False, jobs=False)),
        (Role.engine, True, Parts(http=False, mail=False, engine=True, jobs=True)),
        (Role.engine, False, Parts(http=False, mail=False, engine=True, jobs=False)),
        (Role.all, False, Parts(http=True, mail=True, engine=True, jobs=False)),
    ],
)
def test_a_role_runs_its_parts_and_no_jobs_leaves_them_to_other_processes(
    role: Role, jobs: bool, expected: Parts
) -> None:
    assert parts(role, jobs) == expected
