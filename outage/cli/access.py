"""What `outage users`, `outage keys` and `outage access-matrix` share: one audited
transaction per command, and the matrix as Markdown."""

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.markup import escape
from sqlalchemy.orm import Session, sessionmaker

from outage.auth import service
from outage.auth.enums import PrincipalKind
from outage.cli.common import err, resolve_database_url

T = TypeVar("T")


def actor() -> str:
    """Who runs the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in this environment
        return "cli"


def migrated_sessions() -> sessionmaker[Session]:
    """Sessions of the database, its schema brought up to date first."""
    from outage.db import run_migrations, session_factory

    url = resolve_database_url()
    run_migrations(url)
    return session_factory(url)


def in_transaction(work: Callable[[Session], T]) -> T:
    """Run `work` on the migrated database in one transaction."""
    from outage.db import session_scope

    with session_scope(migrated_sessions()) as session:
        return work(session)


def audit(session: Session, action: str, **details: object) -> None:
    service.record(
        session, actor=actor(), actor_kind=PrincipalKind.STAFF, action=action, details=details
    )


def access_matrix(
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write to this file instead of stdout")
    ] = None,
) -> None:
    """Print the role x permission matrix and every route's permission, as Markdown."""
    from outage.app import create_app
    from outage.auth.matrix import render_markdown
    from outage.web.principal import route_rules

    text = render_markdown(route_rules(create_app("postgresql://matrix.invalid/none")))
    if output is None:
        typer.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
        err.print(f"Wrote {escape(output)}")
