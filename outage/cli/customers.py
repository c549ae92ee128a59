"""`outage customers export|erase ACCOUNT`: a customer's right of access and of erasure.

Both are written to the audit log with who ran them.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from outage import clock
from outage.cli.access import audit, in_transaction
from outage.cli.common import err, fail
from outage.privacy.customers import UnknownAccount, erase_customer, export_customer

app = typer.Typer(help="A customer's requests about their personal data.", no_args_is_help=True)

Account = Annotated[str, typer.Argument(help="The customer's account number")]


@app.command("export")
def export(
    account: Account,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout")
    ] = None,
) -> None:
    """Everything held about one customer, as JSON: record, premise, preferences, reports,
    service requests and messages sent to them."""

    def work(session: Session) -> str:
        found = export_customer(session, account, now=clock.now())
        audit(session, "customers.export", account=found.account, output=str(output or "-"))
        return found.model_dump_json(indent=2)

    try:
        text = in_transaction(work)
    except UnknownAccount as exc:
        fail(str(exc))
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        err.print(f"Wrote {escape(str(output))}")


@app.command("erase")
def erase(
    account: Account,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Erase one customer's personal data: name, phone, e-mail, the text of their reports
    and requests, message addresses and preferences. Tickets and outage counts stay."""
    if not yes:
        typer.confirm(
            f"Erase the personal data of customer {account}? This cannot be undone", abort=True
        )

    def work(session: Session) -> dict[str, int]:
        counts = erase_customer(session, account)
        audit(session, "customers.erase", account=account.strip(), erased=counts)
        return counts

    try:
        counts = in_transaction(work)
    except UnknownAccount as exc:
        fail(str(exc))
    for table, count in counts.items():
        typer.echo(f"{table}\t{count}")
    err.print(f"[green]Erased[/] the personal data of customer {escape(account.strip())}.")
