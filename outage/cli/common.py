"""Helpers every CLI command shares: clear failures and finding the database."""

from collections.abc import Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from outage import pgcluster
from outage.settings import get_settings

err = Console(stderr=True, highlight=False, soft_wrap=True)

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """Exit with a readable message instead of a traceback."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=1)


def guard(action: Callable[[], T]) -> T:
    """Run an action, turning the errors users can act on into a message and exit code 1."""
    try:
        return action()
    except pgcluster.ClusterError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))


def resolve_database_url() -> str:
    """DATABASE_URL when set, else the private cluster, started if need be."""
    return guard(lambda: pgcluster.database_url(get_settings()))
