"""HTTP routes of crews and the dispatch plan.

Crews: `GET|POST /crews`, `GET|PATCH /crews/{id}` (a crew from elsewhere is released with
a PATCH of `released_at`), `POST /crews/{id}/position` (a crew member only for their own
crew). Damage: `POST /damage-assessments` (a crew member as their own crew, retry-safe
with `Idempotency-Key`), `GET /incidents/{id}/damage-assessments`. Dispatch:
`POST /dispatch/plan` runs the optimiser (with pins given in the body), `GET /dispatch/plan`
answers the newest plan, and
`POST /dispatch/pins` / `DELETE /dispatch/pins/{incident_id}` pin an incident to a crew
(at a place in its route) or let the optimiser choose again.
"""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status

from outage import clock
from outage.crews import damage, pins, plan_view, planning, service
from outage.crews.schemas import (
    CrewIn,
    CrewOut,
    CrewPatch,
    DamageIn,
    DamageOut,
    HelpIn,
    PinIn,
    PinOut,
    PlanOut,
    PlanRequest,
    PositionAccepted,
    PositionIn,
)
from outage.web.deps import SessionDep, TopologyDep
from outage.web.principal import AccessDenied, Principal, PrincipalDep, require

router = APIRouter(prefix="/api/v1")


def _now() -> datetime:
    return clock.now()


# --- crews ------------------------------------------------------------------------------


@router.get(
    "/crews",
    response_model=list[CrewOut],
    tags=["crews"],
    dependencies=[Depends(require("crews.read"))],
)
def list_crews(session: SessionDep) -> list[CrewOut]:
    """Every crew: skills, depot, status, newest position, current and coming shifts."""
    return service.list_crews(session, now=_now())


@router.post(
    "/crews",
    response_model=CrewOut,
    status_code=status.HTTP_201_CREATED,
    tags=["crews"],
    dependencies=[Depends(require("crews.manage"))],
)
def create_crew(crew: CrewIn, session: SessionDep, response: Response) -> CrewOut:
    """A new crew; 409 when the name is taken. Its members are the crew-role staff users
    whose crew it is (`outage users add --role crew --crew ID`)."""
    crew_id = service.create_crew(session, crew)
    response.headers["Location"] = f"/api/v1/crews/{crew_id}"
    return service.get_crew(session, crew_id, now=_now())


@router.get(
    "/crews/{crew_id}",
    response_model=CrewOut,
    tags=["crews"],
    dependencies=[Depends(require("crews.read"))],
)
def get_crew(crew_id: int, session: SessionDep) -> CrewOut:
    return service.get_crew(session, crew_id, now=_now())


@router.patch(
    "/crews/{crew_id}",
    response_model=CrewOut,
    tags=["crews"],
    dependencies=[Depends(require("crews.manage"))],
)
def update_crew(crew_id: int, patch: CrewPatch, session: SessionDep) -> CrewOut:
    """Change a crew; fields left out stay, `shifts` replaces its shifts."""
    service.update_crew(session, crew_id, patch)
    return service.get_crew(session, crew_id, now=_now())


@router.post(
    "/crews/{crew_id}/position",
    response_model=PositionAccepted,
    tags=["crews"],
    dependencies=[Depends(require("crews.position"))],
)
def report_position(
    crew_id: int, position: PositionIn, session: SessionDep, principal: PrincipalDep
) -> PositionAccepted:
    """The crew's live position (and status when it changed), from its phone; 403 for a
    crew member of another crew, 422 for a fix from the future or more than a day old."""
    _own_crew(principal, crew_id)
    return service.record_position(session, crew_id, position, now=_now())


def _own_crew(principal: Principal, crew_id: int) -> None:
    """A crew member's `crews.position` holds for their own crew only."""
    grant = principal.grant("crews.position")
    if grant is not None and grant.restriction is not None and principal.crew_id != crew_id:
        raise AccessDenied("a crew member reports only for their own crew")


@router.post(
    "/crews/{crew_id}/help",
    response_model=CrewOut,
    tags=["crews"],
    dependencies=[Depends(require("crews.position"))],
)
def ask_for_help(
    crew_id: int, call: HelpIn, session: SessionDep, principal: PrincipalDep
) -> CrewOut:
    """The crew asks the control room for help; it shows on the crew until cleared."""
    _own_crew(principal, crew_id)
    service.ask_for_help(session, crew_id, call, now=_now())
    return service.get_crew(session, crew_id, now=_now())


@router.delete(
    "/crews/{crew_id}/help",
    response_model=CrewOut,
    tags=["crews"],
    dependencies=[Depends(require("crews.manage"))],
)
def clear_help(crew_id: int, session: SessionDep) -> CrewOut:
    """The control room answered the crew's call for help."""
    service.clear_help(session, crew_id)
    return service.get_crew(session, crew_id, now=_now())


# --- damage assessments -----------------------------------------------------------------


@router.post(
    "/damage-assessments",
    response_model=DamageOut,
    status_code=status.HTTP_201_CREATED,
    tags=["crews"],
    dependencies=[Depends(require("damage.report"))],
)
def report_damage(
    body: DamageIn,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    idempotency_key: Annotated[
        str, Header(alias="Idempotency-Key", min_length=1, max_length=200, description="Retry-safe")
    ],
) -> DamageOut:
    """Damage assessed in the field, on an incident or where none is yet (with a
    `location`); the newest on an incident sizes its job in the next plan. The same
    `Idempotency-Key` again answers the first row (200, not 201). A crew member reports as
    their own crew; 422 for a time in the future or an unknown incident."""
    grant = principal.grant("damage.report")
    crew_id = body.crew_id
    if grant is not None and grant.restriction is not None:
        if principal.crew_id is None or crew_id not in (None, principal.crew_id):
            raise AccessDenied("a crew member reports damage only as their own crew")
        crew_id = principal.crew_id
    row, new = damage.report_damage(
        session,
        body.model_copy(update={"crew_id": crew_id}),
        key=idempotency_key,
        reported_by=principal.name,
        now=_now(),
    )
    if not new:
        response.status_code = status.HTTP_200_OK
    return row


@router.get(
    "/incidents/{incident_id}/damage-assessments",
    response_model=list[DamageOut],
    tags=["crews"],
    dependencies=[Depends(require("incidents.read"))],
)
def incident_damage(incident_id: int, session: SessionDep) -> list[DamageOut]:
    """An incident's damage assessments, newest first; 404 for no such incident."""
    return damage.incident_damage(session, incident_id)


# --- dispatch ---------------------------------------------------------------------------


@router.post(
    "/dispatch/plan",
    response_model=PlanOut,
    tags=["dispatch"],
    dependencies=[Depends(require("dispatch.plan"))],
)
def run_plan(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    live: TopologyDep,
    body: PlanRequest | None = None,
) -> PlanOut:
    """Plan now: set the pins given (the others stay), run the optimiser within the time
    limit, assign the incidents and set estimated ETRs (never over a crew's or a
    dispatcher's ETR). Answers the plan, as `GET /dispatch/plan` does."""
    wanted = body or PlanRequest()
    for pin in wanted.pins:
        pins.set_pin(session, pin, by=principal.name)
    planning.make_plan(
        session,
        now=_now(),
        topology=lambda: live.get(session),
        config=planning.PlanSettings.from_settings(request.app.state.settings),
        made_by=principal.name,
        time_limit=None if wanted.time_limit_s is None else timedelta(seconds=wanted.time_limit_s),
    )
    return plan_view.read_plan(session)


@router.get(
    "/dispatch/plan",
    response_model=PlanOut,
    tags=["dispatch"],
    dependencies=[Depends(require("dispatch.read"))],
)
def get_plan(session: SessionDep) -> PlanOut:
    """The newest plan: per crew its jobs in order with planned arrival and ETR, the jobs
    nobody can take and why, the pins, and the weighted customer-minutes of the plan and
    of the greedy rule on the same inputs. 404 before the first plan."""
    return plan_view.read_plan(session)


@router.post(
    "/dispatch/pins",
    response_model=PinOut,
    status_code=status.HTTP_201_CREATED,
    tags=["dispatch"],
    dependencies=[Depends(require("dispatch.plan"))],
)
def pin(body: PinIn, session: SessionDep, principal: PrincipalDep) -> PinOut:
    """Pin an active incident to a crew (at `order` in its route, if given); the optimiser
    keeps it there from the next plan on, even against skills. Replaces an earlier pin."""
    return pins.set_pin(session, body, by=principal.name)


@router.delete(
    "/dispatch/pins/{incident_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["dispatch"],
    dependencies=[Depends(require("dispatch.plan"))],
)
def unpin(incident_id: int, session: SessionDep) -> Response:
    """Let the optimiser choose the incident's crew again; 404 when it has no pin."""
    pins.remove_pin(session, incident_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
