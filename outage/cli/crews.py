"""`outage crews add|list`: field crews and the dispatch plan from the command line."""

from datetime import timedelta
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from sqlalchemy.orm import Session

from dispatch.model import Skill
from outage import clock
from outage.cli.access import audit, in_transaction
from outage.cli.common import err, fail
from outage.crews import service
from outage.crews.enums import CrewOrigin
from outage.crews.schemas import CrewIn

app = typer.Typer(help="Field crews and the dispatch plan.", no_args_is_help=True)


@app.command("add")
def add_crew(
    name: Annotated[str, typer.Argument(help="The crew's name, unique")],
    lat: Annotated[float, typer.Option(help="Latitude of its depot")],
    lon: Annotated[float, typer.Option(help="Longitude of its depot")],
    skill: Annotated[list[Skill], typer.Option(help="A skill (repeat the option for more)")],
    vehicle: Annotated[str | None, typer.Option(help="Its vehicle (plate or call sign)")] = None,
    shift_hours: Annotated[
        float, typer.Option(help="A shift starting now, this long (0: none)")
    ] = 8.0,
    origin: Annotated[
        CrewOrigin, typer.Option(help="Ours, lent by another utility, or a contractor's")
    ] = CrewOrigin.OWN,
    organisation: Annotated[
        str | None, typer.Option(help="The lending utility or the contractor")
    ] = None,
    arrives_at: Annotated[
        str | None,
        typer.Option(help="When it arrives, ISO 8601 with a zone; not planned before"),
    ] = None,
) -> None:
    """Add a crew; crew members then join it with `outage users add --role crew --crew ID`."""
    now = clock.now().replace(microsecond=0)
    shifts = [{"starts_at": now, "ends_at": now + timedelta(hours=shift_hours)}]
    try:
        crew = CrewIn.model_validate(
            {
                "name": name,
                "skills": skill,
                "depot": {"lat": lat, "lon": lon},
                "vehicle": vehicle,
                "shifts": shifts if shift_hours > 0 else [],
                "origin": origin,
                "organisation": organisation,
                "arrives_at": arrives_at,
            }
        )
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))

    def work(session: Session) -> int:
        crew_id = service.create_crew(session, crew)
        audit(session, "crews.add", crew_id=crew_id, name=crew.name)
        return crew_id

    try:
        crew_id = in_transaction(work)
    except service.CrewConflict as exc:
        fail(str(exc))
    err.print(f"crew [bold]{escape(name)}[/] added with id {crew_id}")
    typer.echo(crew_id)


@app.command("list")
def list_crews() -> None:
    """List crews, tab-separated: id, name, skills, status, on shift, members, origin."""
    now = clock.now()
    for crew in in_transaction(lambda session: service.list_crews(session, now=now)):
        typer.echo(
            "\t".join(
                [
                    str(crew.id),
                    crew.name,
                    ",".join(crew.skills),
                    crew.status.value,
                    "on shift" if crew.on_shift else "off shift",
                    ",".join(m.username for m in crew.members),
                    crew.origin.value + (f" ({crew.organisation})" if crew.organisation else ""),
                ]
            )
        )
