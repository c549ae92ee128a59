"""The `outage` command line."""

import typer

from outage.cli import bench, db, grid, serve

app = typer.Typer(help="Outage reporting and geospatial dispatch.", no_args_is_help=True)
app.add_typer(db.app, name="db")
app.add_typer(grid.app, name="grid")
app.command("serve")(serve.serve)
app.command("demo")(serve.demo)
app.command("bench")(bench.bench)
