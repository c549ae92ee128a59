"""Backups of the database with PostgreSQL's own tools, and restoring them.

A backup is `pg_dump` in its custom format (compressed, restorable table by table);
a restore is `pg_restore` in one transaction, so a failed restore leaves the target as
it was. The tools are those of the newest PostgreSQL with PostGIS on this machine, as for
the private cluster (`outage.pgcluster.find_pg_bindir`); they must be at least the
server's version.
"""

import os
import subprocess
from pathlib import Path

from psycopg2.extensions import make_dsn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from outage.pgcluster import find_pg_bindir

MAINTENANCE_DATABASE = "postgres"
"""Where a missing target database is created from."""

_OBJECTS_SQL = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
"""
"""Tables, views and sequences not belonging to an extension (PostGIS's own do not count)."""


class BackupError(RuntimeError):
    """A backup or restore failed, or was refused; the message says why."""


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The connection string of `url` for the command-line tools, and their environment.

    The password travels in the environment, never on a command line others can read.
    """
    options = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    conninfo = make_dsn(
        dbname=url.database,
        user=url.username,
        host=url.host or options.pop("host", None),
        port=url.port or options.pop("port", None),
        **options,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _run(tool: str, args: list[str], url: URL) -> None:
    conninfo, env = _libpq(url)
    command = [str(find_pg_bindir() / tool), "--no-password", f"--dbname={conninfo}", *args]
    try:
        done = subprocess.run(
            command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
    except OSError as exc:
        raise BackupError(f"cannot run {tool}: {exc}") from exc
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {(done.stderr or done.stdout).strip()}")


def backup(database_url: str, target: Path) -> int:
    """Dump the database to `target` (custom format); its size in bytes.

    The dump is written beside the target and renamed into place, so a failed backup
    never leaves a truncated file under the name of a good one.
    """
    partial = target.with_name(target.name + ".partial")
    try:
        _run("pg_dump", ["--format=custom", f"--file={partial}"], make_url(database_url))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def ensure_database(database_url: str) -> bool:
    """Create the target database when its server has none of that name; whether it did."""
    url = make_url(database_url)
    admin = create_engine(url.set(database=MAINTENANCE_DATABASE), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ):
                return False
            quoted = connection.dialect.identifier_preparer.quote(str(url.database))
            connection.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


def object_count(database_url: str) -> int:
    """Tables, views and sequences in the database, those of extensions aside."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text(_OBJECTS_SQL)) or 0)
    finally:
        engine.dispose()


def restore(dump: Path, database_url: str, *, clean: bool = False) -> None:
    """Restore a dump into the database (created if missing), all or nothing.

    A database that already holds tables is refused unless `clean`, which drops what the
    dump holds before restoring it.
    """
    if not dump.is_file():
        raise BackupError(f"no backup file {dump}")
    ensure_database(database_url)
    found = object_count(database_url)
    if found and not clean:
        raise BackupError(
            f"the target database is not empty ({found} tables, views or sequences); "
            "restore into an empty or new database, or pass --clean to replace its contents"
        )
    args = ["--no-owner", "--single-transaction", "--exit-on-error"]
    if clean:
        args += ["--clean", "--if-exists"]
    _run("pg_restore", [*args, str(dump)], make_url(database_url))
