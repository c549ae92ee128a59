"""`outage users add|list|disable`: staff accounts. Every change goes to the audit log."""

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from outage.auth import service
from outage.auth.enums import Role
from outage.cli.access import audit, in_transaction
from outage.cli.common import err, fail

app = typer.Typer(
    help="Staff accounts: agents, dispatchers, crews, supervisors, admins.", no_args_is_help=True
)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("add")
def add_user(
    username: Annotated[
        str, typer.Argument(help="Sign-in name: lower-case letters, digits, . _ -")
    ],
    role: Annotated[Role, typer.Option(help="What the user does")],
    crew: Annotated[
        int | None,
        typer.Option(
            help="The id of a crew member's crew (crew role only; see `outage crews list`)"
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Full name, shown on the pages")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Add a staff account; the password is asked for (at least 10 characters)."""
    password = _read_password(password_stdin)

    def work(session: Session) -> service.UserOut:
        user = service.create_user(
            session,
            username=username,
            password=password,
            role=role,
            crew_id=crew,
            display_name=name,
        )
        audit(session, "users.add", username=user.username, role=user.role.value, crew=crew)
        return user

    try:
        user = in_transaction(work)
    except service.AccountError as exc:
        fail(str(exc))
    err.print(f"[green]Added[/] {escape(user.username)} ({user.role.value})")


@app.command("list")
def list_users() -> None:
    """List staff accounts, tab-separated: username, role, crew, name, state."""
    for user in in_transaction(service.list_users):
        state = f"disabled {user.disabled_at:%Y-%m-%d}" if user.disabled_at else "active"
        crew = "" if user.crew_id is None else str(user.crew_id)
        typer.echo(
            "\t".join([user.username, user.role.value, crew, user.display_name or "", state])
        )


@app.command("disable")
def disable_user(username: Annotated[str, typer.Argument(help="Who to disable")]) -> None:
    """Disable an account and end its sessions and tokens at once."""

    def work(session: Session) -> bool:
        done = service.disable_user(session, username=username, now=datetime.now(UTC))
        if done:
            audit(session, "users.disable", username=username.lower())
        return done

    if not in_transaction(work):
        fail(f"no user {username!r}")
    err.print(f"[green]Disabled[/] {escape(username.lower())}; their sessions are ended.")
