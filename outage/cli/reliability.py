"""`outage reliability rebuild`: store the interruption records again from the incidents and
their audit trail, after a correction the stored records could not follow (switching
recorded late, customers moved to another feeder, a bug fixed). One transaction: the
reports see the old records or the new ones, never a mix.
"""

from datetime import datetime, time, timedelta
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from outage.cli.access import in_transaction
from outage.cli.common import err
from outage.incidents.recorded import rebuild as rebuild_records
from outage.settings import get_settings

app = typer.Typer(
    help="Reliability records: rebuild them from the audit trail.", no_args_is_help=True
)


@app.command()
def rebuild(
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First local day of the outages to rebuild"),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last local day (included)"),
    ] = None,
) -> None:
    """Derive the records of the outages of these days (all without bounds) again and
    store them, with their customers' spells and the daily totals."""
    zone = get_settings().local_timezone
    start = datetime.combine(since.date(), time(), zone) if since else None
    end = datetime.combine(until.date() + timedelta(days=1), time(), zone) if until else None
    if start is not None and end is not None and end <= start:
        raise typer.BadParameter("--until is before --since")
    with Progress(
        TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        found = in_transaction(
            lambda session: rebuild_records(session, since=start, until=end, progress=report)
        )
    typer.echo(f"incidents\t{found.incidents}")
    typer.echo(f"records\t{found.records}")
    typer.echo(f"customers\t{found.customers}")
    err.print(f"[green]Rebuilt[/] the records of {found.incidents} incidents.")
