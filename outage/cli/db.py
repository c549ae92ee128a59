"""`outage db ...`: the database, a private PostgreSQL+PostGIS cluster unless DATABASE_URL is set.

URLs go to stdout alone (so `export DATABASE_URL=$(outage db up)` works); messages
go to stderr.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from outage import pgcluster
from outage.cli.common import err, fail, guard, resolve_database_url
from outage.settings import get_settings

app = typer.Typer(
    help="The database: a private PostgreSQL+PostGIS cluster under the data directory "
    "unless DATABASE_URL is set.",
    no_args_is_help=True,
)


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # an unparsable URL is shown as it is
        return url
    return url if parsed.password is None else parsed.render_as_string(hide_password=True)


@app.command()
def up() -> None:
    """Start the private cluster (creating it on first use) and print its URL."""
    settings = get_settings()
    if settings.database_url:
        err.print(
            "[yellow]DATABASE_URL is set[/]: using "
            f"{escape(_hide_password(settings.database_url))}; no private cluster started."
        )
        typer.echo(settings.database_url)
        return
    data_dir = settings.data_dir
    was_running = guard(lambda: pgcluster.url(data_dir)) is not None
    url = guard(lambda: pgcluster.ensure_running(data_dir))
    state = "already running" if was_running else "started"
    err.print(f"[green]PostgreSQL {state}[/] in {escape(str(data_dir.resolve()))}")
    typer.echo(url)


@app.command()
def down() -> None:
    """Stop the private cluster."""
    data_dir = get_settings().data_dir
    if guard(lambda: pgcluster.stop(data_dir)):
        err.print(f"[green]PostgreSQL stopped[/] in {escape(str(data_dir.resolve()))}")
    else:
        err.print(f"PostgreSQL was not running in {escape(str(data_dir.resolve()))}")


@app.command()
def url() -> None:
    """Print the database URL (DATABASE_URL when set, else the running private cluster's)."""
    settings = get_settings()
    if settings.database_url:
        typer.echo(settings.database_url)
        return
    found = guard(lambda: pgcluster.url(settings.data_dir))
    if found is None:
        fail(
            f"the private cluster in {settings.data_dir.resolve()} is not running; "
            "start it with `outage db up`, or set DATABASE_URL."
        )
    typer.echo(found)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (starting the private cluster if needed)."""
    from outage.db import run_migrations

    settings = get_settings()
    db_url = guard(lambda: pgcluster.database_url(settings))
    err.print(f"Migrating {escape(_hide_password(db_url))} ...")
    try:
        run_migrations(db_url)
    except Exception as exc:  # no traceback for the user; OUTAGE_DEBUG=1 shows it
        if os.environ.get("OUTAGE_DEBUG"):
            raise
        fail(f"migration failed: {type(exc).__name__}: {exc}")
    err.print("[green]Database is up to date.[/]")


@app.command()
def backup(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The backup file; default outage-<UTC time>.dump"),
    ] = None,
) -> None:
    """Back up the database (pg_dump, custom format) to a file; its name goes to stdout."""
    from outage.backup import BackupError
    from outage.backup import backup as dump

    db_url = resolve_database_url()
    target = output or Path(f"outage-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.dump")
    try:
        with err.status(f"Backing up {escape(_hide_password(db_url))} ..."):
            size = dump(db_url, target)
    except BackupError as exc:
        fail(str(exc))
    err.print(f"[green]Backed up[/] to {escape(str(target))} ({size / 1e6:.1f} MB)")
    typer.echo(str(target))


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `outage db backup`")],
    into: Annotated[
        str | None,
        typer.Option(help="The database to restore into (created if missing); default: ours"),
    ] = None,
    clean: Annotated[
        bool, typer.Option("--clean", help="Replace the contents of a database that has some")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before --clean")] = False,
) -> None:
    """Restore a backup into an empty or new database, all or nothing."""
    from outage.backup import BackupError
    from outage.backup import restore as load

    db_url = into or resolve_database_url()
    shown = escape(_hide_password(db_url))
    if clean and not yes:
        typer.confirm(f"Replace the contents of {shown} with {file}?", abort=True)
    try:
        with err.status(f"Restoring {escape(str(file))} into {shown} ..."):
            load(file, db_url, clean=clean)
    except BackupError as exc:
        fail(str(exc))
    err.print(f"[green]Restored[/] {escape(str(file))} into {shown}")
