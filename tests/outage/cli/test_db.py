"""`outage db backup` and `outage db restore`: a backup restored into a fresh cluster."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from outage import pgcluster
from outage.cli import app
from outage.db import session_factory, session_scope
from outage.intake.models import Report
from outage.intake.schemas import ReportIn
from outage.intake.service import Submission, submit_report
from outage.settings import Settings, get_settings


@pytest.fixture
def source(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own holding five reports, the one the CLI is configured with."""
    with session_scope(session_factory(fresh_database_url)) as session:
        for n in range(5):
            report = ReportIn(address=f"Số {n} Hàng Bài", description="mất điện")
            submit_report(session, Submission(report), Settings())
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    yield fresh_database_url
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def second_cluster() -> Iterator[str]:
    """A throwaway cluster of its own (like the tests' main one); its empty database."""
    data_dir = Path(tempfile.mkdtemp(prefix="outage-restore-", dir="/tmp"))
    data_dir.chmod(0o755)
    try:
        yield pgcluster.ensure_running(data_dir, fast=True)
    finally:
        pgcluster.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def _tickets(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(select(Report.ticket).order_by(Report.ticket)))
    finally:
        engine.dispose()


def test_a_backup_restored_into_a_fresh_cluster_holds_every_report(
    source: str, second_cluster: str, tmp_path: Path
) -> None:
    dump = tmp_path / "outage.dump"
    backed_up = CliRunner().invoke(app, ["db", "backup", "-o", str(dump)])
    assert backed_up.exit_code == 0, backed_up.output
    assert backed_up.stdout.strip() == str(dump)
    restored = CliRunner().invoke(app, ["db", "restore", str(dump), "--into", second_cluster])
    assert restored.exit_code == 0, restored.output
    tickets = _tickets(source)
    assert len(tickets) == 5
    assert _tickets(second_cluster) == tickets


def test_restore_refuses_a_database_that_has_tables_and_changes_nothing(
    source: str, tmp_path: Path
) -> None:
    dump = tmp_path / "outage.dump"
    assert CliRunner().invoke(app, ["db", "backup", "-o", str(dump)]).exit_code == 0
    engine = create_engine(source)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM reports"))
    engine.dispose()
    result = CliRunner().invoke(app, ["db", "restore", str(dump)])
    assert result.exit_code == 1
    assert "not empty" in result.output and "--clean" in result.output
    assert _tickets(source) == []


def test_restore_with_clean_and_yes_replaces_the_contents(source: str, tmp_path: Path) -> None:
    dump = tmp_path / "outage.dump"
    assert CliRunner().invoke(app, ["db", "backup", "-o", str(dump)]).exit_code == 0
    tickets = _tickets(source)
    engine = create_engine(source)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM reports"))
    engine.dispose()
    result = CliRunner().invoke(app, ["db", "restore", str(dump), "--clean", "--yes"])
    assert result.exit_code == 0, result.output
    assert _tickets(source) == tickets


def test_a_missing_backup_file_is_refused_with_a_reason(source: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["db", "restore", str(tmp_path / "nothing.dump")])
    assert result.exit_code == 1
    assert "no backup file" in result.output
