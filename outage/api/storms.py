"""HTTP routes of storms: `GET|POST /storms`, `GET|PATCH /storms/{id}`, and
`GET /storms/proposal`, the level the outages of the last hour call for."""

from fastapi import APIRouter, Depends, Response, status

from outage import clock
from outage.incidents.queries import outage_load
from outage.settings import get_settings
from outage.storms import service
from outage.storms.proposal import Thresholds
from outage.storms.schemas import ProposalOut, StormIn, StormOut, StormPatch
from outage.web.deps import SessionDep
from outage.web.principal import PrincipalDep, require

router = APIRouter(prefix="/api/v1", tags=["storms"])


@router.get(
    "/storms", response_model=list[StormOut], dependencies=[Depends(require("storms.read"))]
)
def list_storms(session: SessionDep) -> list[StormOut]:
    """Storms, newest first."""
    return service.list_storms(session)


@router.get(
    "/storms/proposal",
    response_model=ProposalOut,
    dependencies=[Depends(require("storms.read"))],
)
def storm_proposal(session: SessionDep) -> ProposalOut:
    """The storm level the last hour's outages and the customers out call for (0: none)."""
    settings = get_settings()
    thresholds = Thresholds(
        incidents_per_hour=settings.storm_incidents_per_hour,
        share_out=settings.storm_share_out,
    )
    load = outage_load(session, now=clock.now())
    return service.proposal(
        session,
        incidents_last_hour=load.incidents_last_hour,
        customers_out=load.customers_out,
        thresholds=thresholds,
    )


@router.post(
    "/storms",
    response_model=StormOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require("storms.manage"))],
)
def declare_storm(
    storm: StormIn, session: SessionDep, principal: PrincipalDep, response: Response
) -> StormOut:
    """Declare a storm (409 while another is on): its regions start in `phase`."""
    storm_id = service.declare(session, storm, actor=principal.name, now=clock.now())
    response.headers["Location"] = f"/api/v1/storms/{storm_id}"
    return service.get_storm(session, storm_id)


@router.get(
    "/storms/{storm_id}", response_model=StormOut, dependencies=[Depends(require("storms.read"))]
)
def get_storm(storm_id: int, session: SessionDep) -> StormOut:
    return service.get_storm(session, storm_id)


@router.patch(
    "/storms/{storm_id}",
    response_model=StormOut,
    dependencies=[Depends(require("storms.manage"))],
)
def change_storm(
    storm_id: int, patch: StormPatch, session: SessionDep, principal: PrincipalDep
) -> StormOut:
    """A new level, a phase for some regions or all, or the end (409 on a stale version)."""
    service.change(session, storm_id, patch, actor=principal.name, now=clock.now())
    return service.get_storm(session, storm_id)
