"""`outage care-teams add|list|remove-member`: the care centre's teams, their supervisor
and members. Every change goes to the audit log."""

from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from outage.auth import service as accounts
from outage.care import owners
from outage.cli.access import audit, in_transaction
from outage.cli.common import err, fail
from outage.errors import DomainError

app = typer.Typer(
    help="Care teams: who owns service requests, and who their late work goes to.",
    no_args_is_help=True,
)


@app.command("add")
def add_team(
    name: Annotated[str, typer.Argument(help="The team's name, shown to customers")],
    supervisor: Annotated[
        str | None, typer.Option(help="The username late requests are escalated to")
    ] = None,
    member: Annotated[
        list[str] | None, typer.Option(help="A member's username (repeat for more)")
    ] = None,
) -> None:
    """Add a team, or change its supervisor and add members to it."""
    named = [u for u in [supervisor, *(member or [])] if u]

    def work(session: Session) -> owners.Team:
        unknown = [u for u in named if accounts.get_user(session, username=u) is None]
        if unknown:
            raise owners.NotInTeam(f"no staff account {unknown}: add it first (`outage users add`)")
        team = owners.save_team(session, name, supervisor=supervisor, members=member)
        audit(session, "care-teams.add", team=team.name, supervisor=team.supervisor, members=member)
        return team

    try:
        team = in_transaction(work)
    except DomainError as exc:
        fail(str(exc))
    err.print(f"[green]Saved[/] team {escape(team.name)}: {len(team.members)} members")


@app.command("list")
def list_teams() -> None:
    """List teams, tab-separated: name, supervisor, members (comma-separated)."""
    for team in in_transaction(owners.teams):
        typer.echo("\t".join([team.name, team.supervisor or "", ",".join(team.members)]))


@app.command("remove-member")
def remove_member(
    name: Annotated[str, typer.Argument(help="The team")],
    username: Annotated[str, typer.Argument(help="The member to remove")],
) -> None:
    """Take a member off a team (the requests they own stay theirs until reassigned)."""

    def work(session: Session) -> bool:
        done = owners.remove_member(session, name, username)
        if done:
            audit(session, "care-teams.remove-member", team=name, username=username.lower())
        return done

    try:
        done = in_transaction(work)
    except DomainError as exc:
        fail(str(exc))
    if not done:
        fail(f"{username!r} is not a member of {name!r}")
    err.print(f"[green]Removed[/] {escape(username.lower())} from {escape(name)}")
