"""The `outage` command line."""

import typer

from outage.cli import (
    access,
    audit,
    bench,
    care_teams,
    crews,
    customers,
    db,
    demo,
    grid,
    keys,
    privacy,
    reliability,
    serve,
    simulate,
    users,
)

app = typer.Typer(help="Outage reporting and geospatial dispatch.", no_args_is_help=True)
app.add_typer(db.app, name="db")
app.add_typer(grid.app, name="grid")
app.add_typer(users.app, name="users")
app.add_typer(care_teams.app, name="care-teams")
app.add_typer(keys.app, name="keys")
app.add_typer(crews.app, name="crews")
app.add_typer(simulate.app, name="simulate")
app.add_typer(customers.app, name="customers")
app.add_typer(privacy.app, name="privacy")
app.add_typer(audit.app, name="audit")
app.add_typer(reliability.app, name="reliability")
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("bench")(bench.bench)
app.command("access-matrix")(access.access_matrix)
