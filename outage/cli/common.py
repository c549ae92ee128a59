"""Helpers every CLI command shares: clear failures and finding the database."""

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from outage.pgcluster import ClusterError, database_url
from outage.settings import get_settings

err = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """Exit with a readable message instead of a traceback."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=1)


def resolve_database_url() -> str:
    try:
        return database_url(get_settings())
    except ClusterError as exc:
        fail(str(exc))
