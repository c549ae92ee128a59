"""`outage grid ...`: load a network into the database, or cut a sample from one."""

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from grid_topology.geojson import GridFormatError, read_grid, write_grid
from grid_topology.model import GridModel
from outage.cli.common import err, fail, resolve_database_url
from outage.db import run_migrations, session_factory, session_scope
from outage.grid.service import ImportRefused, ImportSummary, save_grid
from outage.incidents.queries import active_on_retired
from outage.orders.service import holding_retired
from outage.settings import get_settings

app = typer.Typer(help="Import and extract distribution networks.", no_args_is_help=True)
import_app = typer.Typer(help="Import a network into the database.", no_args_is_help=True)
app.add_typer(import_app, name="import")

SIMBENCH_ATTRIBUTION = (
    "Extract of the SimBench data set (simbench.de), Open Database License 1.0 "
    "(opendatacommons.org/licenses/odbl/1.0/); customers are synthetic."
)


def _load_simbench(code: str, seed: int) -> GridModel:
    from grid_topology.simbench import SimbenchUnavailable, import_simbench

    try:
        with err.status(f"Reading SimBench grid {code} ..."):
            return import_simbench(code, seed=seed)
    except (SimbenchUnavailable, ValueError) as exc:
        fail(str(exc))
        raise


def store(model: GridModel, database_url: str) -> ImportSummary:
    """Write a model with a progress bar per table; one transaction for the whole grid."""
    run_migrations(database_url)
    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done)

        try:
            with session_scope(session_factory(database_url)) as session:
                summary = save_grid(
                    session,
                    model,
                    progress=report,
                    territory_margin_m=get_settings().territory_margin_m,
                    guards=(active_on_retired, holding_retired),
                )
        except ImportRefused as exc:
            fail(str(exc))
    err.print(
        f"[green]Imported[/] {summary.customers} customers, {summary.devices} devices, "
        f"{summary.feeders} feeders, {summary.substations} substations; changed "
        f"{summary.changed_devices} devices and {summary.changed_nodes} nodes, "
        f"retired {len(summary.retired)} features."
    )
    return summary


@import_app.command("simbench")
def import_simbench_command(
    code: Annotated[str, typer.Argument(help="SimBench code, e.g. 1-MVLV-urban-all-0-sw")],
    seed: Annotated[int, typer.Option(help="Seed of the synthetic customers")] = 0,
) -> None:
    """Import a SimBench grid: one customer per load, devices keep their SimBench names."""
    store(_load_simbench(code, seed), resolve_database_url())


@import_app.command("geojson")
def import_geojson_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON grid file")],
) -> None:
    """Import a utility's GIS export in the outage-grid GeoJSON format (docs/geojson-grid.md)."""
    try:
        model = read_grid(file)
    except GridFormatError as exc:
        fail(f"{file} is not a valid grid file:\n{exc}")
    store(model, resolve_database_url())


@app.command("extract")
def extract_command(
    code: Annotated[str, typer.Argument(help="SimBench code to cut from")],
    output: Annotated[Path, typer.Option("--output", "-o", help="GeoJSON file to write")],
    feeder: Annotated[list[str], typer.Option(help="Feeder name to keep (repeat)")],
    seed: Annotated[int, typer.Option(help="Seed of the synthetic customers")] = 0,
) -> None:
    """Cut feeders of a SimBench grid into a GeoJSON sample (how data/ was made)."""
    from grid_topology.extract import extract_feeders

    try:
        model = extract_feeders(_load_simbench(code, seed), feeder)
    except ValueError as exc:
        fail(str(exc))
    write_grid(model, output, attribution=SIMBENCH_ATTRIBUTION)
    err.print(f"Wrote {len(model.premises)} customers, {len(model.devices)} devices to {output}")
