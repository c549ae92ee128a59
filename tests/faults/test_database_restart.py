"""While PostgreSQL restarts, requests get 503 with Retry-After and the log one line each."""

import logging
import time
from pathlib import Path

import pytest

from outage import pgcluster
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import get_engine
from tests.conftest import issue_credentials, staff_client


def test_a_database_restart_gives_503_with_retry_after_then_service_again(
    cluster: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    data_dir, url = cluster
    credentials = issue_credentials(url, roles=[Role.DISPATCHER], scopes=[])
    with staff_client(create_app(url), credentials, Role.DISPATCHER) as client:
        assert client.get("/api/v1/crews").status_code == 200
        pgcluster.stop(data_dir)
        try:
            with caplog.at_level(logging.WARNING, logger="outage.web.errors"):
                down = client.get("/api/v1/crews")
        finally:
            pgcluster.ensure_running(data_dir, fast=True)
        deadline = time.monotonic() + 10
        back = client.get("/api/v1/crews")
        while back.status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.2)
            back = client.get("/api/v1/crews")
    get_engine(url).dispose()
    assert down.status_code == 503
    assert int(down.headers["Retry-After"]) > 0
    assert "database" in down.json()["detail"]
    warnings = [r for r in caplog.records if r.name == "outage.web.errors"]
    assert warnings and all(r.exc_info is None and "\n" not in r.getMessage() for r in warnings)
    assert back.status_code == 200
