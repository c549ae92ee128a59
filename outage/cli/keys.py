"""`outage keys add|list|revoke`: integrations' API keys. Every change goes to the audit log."""

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from outage.auth import service
from outage.auth.enums import Scope
from outage.cli.access import audit, in_transaction
from outage.cli.common import err, fail

app = typer.Typer(
    help="API keys of integrations (SMS/IVR, meters, SCADA, Open311).", no_args_is_help=True
)


@app.command("add")
def add_key(
    name: Annotated[str, typer.Argument(help="Who holds the key, e.g. sms-gateway")],
    scope: Annotated[list[Scope], typer.Option(help="What the key may call (repeat)")],
    key_stdin: Annotated[
        bool,
        typer.Option("--key-stdin", help="Take over a key the integration holds, from stdin"),
    ] = False,
) -> None:
    """Issue an API key: printed once on stdout, stored only hashed."""
    given = sys.stdin.readline().strip() if key_stdin else None

    def work(session: Session) -> tuple[service.KeyOut, str]:
        found = service.create_api_key(session, name=name, scopes=scope, key=given)
        audit(session, "keys.add", name=found[0].name, scopes=[s.value for s in found[0].scopes])
        return found

    try:
        key, secret = in_transaction(work)
    except service.AccountError as exc:
        fail(str(exc))
    scopes = ", ".join(s.value for s in key.scopes)
    if given is not None:
        err.print(f"[green]Took over[/] the key of {escape(key.name)} ({scopes})")
        return
    err.print(f"[green]Issued[/] key {escape(key.name)} ({scopes}); it is not shown again:")
    typer.echo(secret)


@app.command("list")
def list_keys() -> None:
    """List API keys, tab-separated: name, first characters, scopes, state."""
    for key in in_transaction(service.list_api_keys):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        scopes = ",".join(s.value for s in key.scopes)
        typer.echo("\t".join([key.name, f"{key.prefix}...", scopes, state]))


@app.command("revoke")
def revoke_key(name: Annotated[str, typer.Argument(help="The key's name")]) -> None:
    """Revoke a key: refused from the next request on."""

    def work(session: Session) -> bool:
        done = service.revoke_api_key(session, name=name, now=datetime.now(UTC))
        if done:
            audit(session, "keys.revoke", name=name)
        return done

    if not in_transaction(work):
        fail(f"no active key named {name!r}")
    err.print(f"[green]Revoked[/] key {escape(name)}")
