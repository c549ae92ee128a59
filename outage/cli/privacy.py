"""`outage privacy purge`: erase personal data older than the retention period now.

The engine does the same on its own schedule; this is for a first run, or to see what
is due (`--dry-run`). Counts per table go to stdout, tab-separated.
"""

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from outage import clock
from outage.cli.access import actor, in_transaction, migrated_sessions
from outage.cli.common import err
from outage.privacy import retention
from outage.settings import get_settings

app = typer.Typer(help="Personal data: retention and erasure.", no_args_is_help=True)


def _print(counts: dict[str, int]) -> None:
    for table, count in counts.items():
        typer.echo(f"{table}\t{count}")


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be erased")
    ] = False,
) -> None:
    """Erase personal data older than OUTAGE_RETENTION_DAYS; the records stay."""
    now = clock.now()
    kept = get_settings().retention_days
    cutoff = retention.cutoff_of(now, kept)
    pending = in_transaction(lambda session: retention.count_pending(session, cutoff))
    if dry_run:
        _print(pending)
        err.print(
            f"Dry run: nothing erased (retention {kept.days} days, before {cutoff:%Y-%m-%d})."
        )
        return
    with Progress(
        TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as progress:
        tasks: dict[str, TaskID] = {
            table: progress.add_task(table, total=count) for table, count in pending.items()
        }
        counts = retention.purge(
            migrated_sessions(),
            now=now,
            retention=kept,
            actor=actor(),
            progress=lambda table, done: progress.advance(tasks[table], done),
        )
    _print(counts)
    err.print(
        f"[green]Erased[/] {sum(counts.values())} rows' personal data older than {kept.days} days."
    )
