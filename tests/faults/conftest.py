"""A private cluster per test module: fault tests stop and start it."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from outage import pgcluster
from outage.db import run_migrations


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Path, str]]:
    """A private cluster of this module's own, since it gets restarted."""
    data_dir = Path(tempfile.mkdtemp(prefix="outage-faults-"))
    data_dir.chmod(0o755)
    try:
        url = pgcluster.ensure_running(data_dir, fast=True)
        run_migrations(url)
        yield data_dir, url
    finally:
        pgcluster.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
