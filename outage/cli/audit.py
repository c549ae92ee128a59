"""`outage audit`: seal the records now, and check their chains.

`verify` reads every chain back (or from `--since` on) and names, per chain, the first
row that does not match what was sealed; it exits 1 if any does, so it can run from a
scheduler of the utility's own and alert."""

from datetime import UTC, datetime, time
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from outage import clock
from outage.cli.access import in_transaction
from outage.cli.common import err
from outage.ledger.sealing import seal_all
from outage.ledger.verification import ChainCheck, verify
from outage.settings import get_settings

app = typer.Typer(help="Tamper-evident records: seal and verify.", no_args_is_help=True)


@app.command("seal")
def seal_now() -> None:
    """Seal every record still waiting (the engine does so every few seconds)."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err) as progress:
        task = progress.add_task("sealing", total=None)
        sealed = seal_all(
            in_transaction, clock.now(), progress=lambda rows: progress.advance(task, rows)
        )
    err.print(f"[green]Sealed[/] {sealed} records.")


def _line(check: ChainCheck) -> str:
    state = "ok" if check.broken is None else "BROKEN"
    return f"{check.chain}\t{state}\t{check.checked} checked\t{check.waiting} waiting"


@app.command("verify")
def verify_chains(
    since: Annotated[
        datetime | None,
        typer.Option(
            help="Check from the first record on or after this date (local time)",
            formats=["%Y-%m-%d"],
        ),
    ] = None,
) -> None:
    """Check the chains; name the first record of each that does not match."""
    zone = get_settings().local_timezone
    start = datetime.combine(since.date(), time(), zone).astimezone(UTC) if since else None
    checks = in_transaction(lambda session: verify(session, start))
    for check in checks:
        typer.echo(_line(check))
        if check.broken is not None:
            broken = check.broken
            row = f"row {broken.row_id}" if broken.row_id is not None else "its end"
            err.print(
                f"[red]{check.chain}[/]: {row}, place {broken.seq}: {broken.reason}",
                highlight=False,
            )
    if any(check.broken for check in checks):
        raise typer.Exit(1)
    err.print(f"[green]Verified[/] {sum(c.checked for c in checks)} records.")
