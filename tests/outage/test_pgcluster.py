"""The private PostgreSQL cluster: real initdb/start/stop against the system binaries."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from outage import pgcluster
from outage.pgcluster import ClusterError


def _have_postgis() -> bool:
    try:
        pgcluster.find_pg_bindir()
    except ClusterError:
        return False
    return True


needs_postgres = pytest.mark.skipif(
    not _have_postgis(), reason="no PostgreSQL with PostGIS installed"
)


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A traversable temp dir with a short path (see tests/conftest.py)."""
    path = Path(tempfile.mkdtemp(prefix="outage-pgc-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="outage-pgc-", dir="/tmp"))
    path.chmod(0o755)
    try:
        pgcluster.ensure_running(path, fast=True)
        yield path
    finally:
        pgcluster.stop(path)
        shutil.rmtree(path, ignore_errors=True)


def _connect(url: str) -> psycopg2.extensions.connection:
    u = make_url(url)
    return psycopg2.connect(
        dbname=u.database, user=u.username, host=u.query["host"], port=u.query["port"]
    )


@needs_postgres
def test_ensure_running_is_idempotent_and_serves_postgis(cluster: Path) -> None:
    first = pgcluster.ensure_running(cluster, fast=True)
    again = pgcluster.ensure_running(cluster, fast=True)
    assert first == again == pgcluster.url(cluster)
    assert first.startswith("postgresql+psycopg2://outage@/outage?host=/")
    assert make_url(first).query["host"] == str(cluster / "run")

    conn = _connect(first)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for ext in ("postgis", "pg_trgm", "unaccent"):
                cur.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
            cur.execute("SELECT ST_AsText(ST_MakePoint(105.85, 21.03)), unaccent('Hà Nội')")
            assert cur.fetchone() == ("POINT(105.85 21.03)", "Ha Noi")
            cur.execute("SHOW listen_addresses")
            assert cur.fetchone() == ("",)
    finally:
        conn.close()


@needs_postgres
def test_stop_then_restart_keeps_the_url(cluster: Path) -> None:
    before = pgcluster.ensure_running(cluster, fast=True)
    assert pgcluster.stop(cluster) is True
    assert pgcluster.stop(cluster) is False
    assert pgcluster.url(cluster) is None
    assert pgcluster.ensure_running(cluster, fast=True) == before


def test_not_a_cluster(scratch: Path) -> None:
    assert pgcluster.url(scratch / "nothing") is None
    assert pgcluster.stop(scratch / "nothing") is False


def test_socket_path_too_long(scratch: Path) -> None:
    deep = scratch / ("d" * 100)
    with pytest.raises(ClusterError, match="too long for a unix socket"):
        pgcluster.ensure_running(deep)
    assert not deep.exists()


@needs_postgres
@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_untraversable_parent_is_a_clear_error(scratch: Path) -> None:
    closed = scratch / "closed"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    with pytest.raises(ClusterError, match=r"cannot traverse .*closed"):
        pgcluster.ensure_running(closed / "data")
    assert not (closed / "data").exists()


def test_find_pg_bindir_prefers_newest_with_postgis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, share = tmp_path / "lib", tmp_path / "share"
    for v in ("14", "15", "16"):
        (lib / v / "bin").mkdir(parents=True)
        (lib / v / "bin" / "initdb").touch()
    for v in ("14", "15"):
        (share / v / "extension").mkdir(parents=True)
        (share / v / "extension" / "postgis.control").touch()
    monkeypatch.setattr(pgcluster, "PG_LIB_ROOT", lib)
    monkeypatch.setattr(pgcluster, "PG_SHARE_ROOT", share)
    assert pgcluster.find_pg_bindir() == lib / "15" / "bin"


def test_find_pg_bindir_names_the_missing_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lib" / "16" / "bin").mkdir(parents=True)
    (tmp_path / "lib" / "16" / "bin" / "initdb").touch()
    monkeypatch.setattr(pgcluster, "PG_LIB_ROOT", tmp_path / "lib")
    monkeypatch.setattr(pgcluster, "PG_SHARE_ROOT", tmp_path / "share")
    with pytest.raises(ClusterError, match="postgresql-16-postgis-3"):
        pgcluster.find_pg_bindir()


def test_find_pg_bindir_without_any_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgcluster, "PG_LIB_ROOT", tmp_path / "lib")
    monkeypatch.setattr(pgcluster, "PG_SHARE_ROOT", tmp_path / "share")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_config either
    with pytest.raises(ClusterError, match=r"install the Debian packages postgresql and"):
        pgcluster.find_pg_bindir()
