"""HTTP routes of restoration by switching: an incident's ranked plans, and the switching
order of the one the dispatcher picks."""

from fastapi import APIRouter, Depends, Response, status

from outage import clock
from outage.orders.schemas import OrderOut
from outage.restoration import service
from outage.restoration.schemas import PlanOrderIn, PlansOut
from outage.web.deps import SessionDep, SettingsDep, TopologyDep
from outage.web.principal import PrincipalDep, require

router = APIRouter(prefix="/api/v1/incidents/{incident_id}/restoration-plans", tags=["switching"])


@router.get("", response_model=PlansOut, dependencies=[Depends(require("restoration.plan"))])
def restoration_plans(
    incident_id: int, session: SessionDep, live: TopologyDep, config: SettingsDep
) -> PlansOut:
    """Ranked plans to bring the incident's customers back by switching before the repair,
    with the network version they were computed on (409: not an active outage on a device)."""
    return service.restoration_plans(
        session, incident_id, network=live.views(session), settings=config, now=clock.now()
    )


@router.post(
    "/{rank}/order",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require("orders.draft"))],
)
def order_plan(
    incident_id: int,
    rank: int,
    body: PlanOrderIn,
    response: Response,
    session: SessionDep,
    live: TopologyDep,
    config: SettingsDep,
    principal: PrincipalDep,
) -> OrderOut:
    """Draft the switching order of plan `rank`, linked to the incident. 409 when the
    network changed since `network_version` (with the devices that changed) or another
    restoration order of the incident is not finished; the same plan again answers its
    order (200), so nothing is drafted or carried out twice."""
    order, created = service.order_plan(
        session,
        incident_id,
        rank,
        body.network_version,
        actor=principal.name,
        network=live.views(session),
        settings=config,
        now=clock.now(),
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return order
