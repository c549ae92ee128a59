"""Shared fixtures.

Integration tests run against a real PostgreSQL+PostGIS: `TEST_DATABASE_URL` when set
(its schema is migrated to the newest revision), else a throwaway private cluster
started once per test session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from outage import pgcluster


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of a migrated database, shared by the whole session."""
    from outage.db import run_migrations

    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        run_migrations(given)
        yield given
        return
    # Not pytest's tmp_path: it is 0700 (the server may run as another user) and its
    # path can be too long for a unix socket.
    data_dir = Path(tempfile.mkdtemp(prefix="outage-test-", dir="/tmp"))
    data_dir.chmod(0o755)
    try:
        url = pgcluster.ensure_running(data_dir, fast=True)
        run_migrations(url)
        yield url
    finally:
        pgcluster.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def fresh_database_url(database_url: str) -> Iterator[str]:
    """A migrated database of its own, for a test whose data would disturb the shared one."""
    from outage.db import create_database, drop_database, get_engine

    name = f"outage_test_{uuid.uuid4().hex[:12]}"
    url = create_database(database_url, name)
    try:
        yield url
    finally:
        get_engine(url).dispose()
        drop_database(database_url, name)
