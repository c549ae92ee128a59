"""`outage audit`: seal the records now, and check their chains and daily roots.

`verify` reads every chain back (or from `--since` on) and names, per chain, the first
row that does not match what was sealed, then checks every daily root (its signature
with the utility's public key, when known); it exits 1 if anything does not match, so
it can run from a scheduler of the utility's own and alert."""

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.progress import Progress, SpinnerColumn, TextColumn

from outage import clock
from outage.cli.access import in_transaction
from outage.cli.common import err
from outage.ledger.roots import check_roots, signing_key
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
    public_key: Annotated[
        str | None,
        typer.Option(
            help="The utility's published Ed25519 public key (hex) the roots must be signed "
            "with; default: that of OUTAGE_AUDIT_SIGNING_KEY_FILE, if set"
        ),
    ] = None,
) -> None:
    """Check the chains and the daily roots; name the first record of each chain, and
    the first root, that does not match."""
    settings = get_settings()
    key = _public_key(public_key, settings.audit_signing_key_file)
    start = (
        datetime.combine(since.date(), time(), settings.local_timezone).astimezone(UTC)
        if since
        else None
    )
    checks = in_transaction(lambda session: verify(session, start))
    roots, root_break = in_transaction(lambda session: check_roots(session, key))
    for check in checks:
        typer.echo(_line(check))
        if check.broken is not None:
            broken = check.broken
            row = f"row {broken.row_id}" if broken.row_id is not None else "its end"
            err.print(
                f"[red]{check.chain}[/]: {row}, place {broken.seq}: {broken.reason}",
                highlight=False,
            )
    typer.echo(f"roots\t{'ok' if root_break is None else 'BROKEN'}\t{roots} checked")
    if root_break is not None:
        err.print(f"[red]root of {root_break.day}[/]: {root_break.reason}", highlight=False)
    if root_break is not None or any(check.broken for check in checks):
        raise typer.Exit(1)
    signed = "signed with the utility's key" if key else "unsigned check"
    err.print(
        f"[green]Verified[/] {sum(c.checked for c in checks)} records and {roots} roots ({signed})."
    )


def _public_key(given: str | None, key_file: Path | None) -> Ed25519PublicKey | None:
    if given is not None:
        try:
            return Ed25519PublicKey.from_public_bytes(bytes.fromhex(given))
        except ValueError as error:
            raise typer.BadParameter(f"not an Ed25519 public key in hex: {error}") from error
    return signing_key(key_file).public_key() if key_file is not None else None
