"""`python -m outage ...` is the `outage` command."""

from outage.cli import app

app()
