"""HTTP routes of incidents: the list, the map layer, one incident, and dispatcher/crew actions.

Staff routes. The audit trail records the signed-in staff member who acts; a crew member
acts only on their own crew's incidents, and only as `outage.auth.matrix.OWN_CREW` allows.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError

from outage.crews.service import crew_names
from outage.grid.history import NetworkHistory
from outage.incidents import edits, queries
from outage.incidents.actions import apply_action, incident_out
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.schemas import (
    IncidentCreate,
    IncidentDetailOut,
    IncidentFeatureCollection,
    IncidentOut,
    IncidentPatch,
)
from outage.web.deps import MAX_OFFSET, SessionDep, TopologyDep
from outage.web.principal import AccessDenied, PrincipalDep, require

router = APIRouter(prefix="/api/v1", tags=["incidents"])

ACTIVE_FILTER = "active"
READ = [Depends(require("incidents.read"))]


def current_actor(
    incident_id: int, patch: IncidentPatch, principal: PrincipalDep, session: SessionDep
) -> str:
    """Who acts, as the audit trail writes it: the signed-in user's name (an integration's
    key name with `key:` before it).

    A restricted grant (a crew member's) holds only for the incidents of the member's
    crew and the actions the restriction lists: 403 otherwise.
    """
    grant = principal.grant("incidents.act")
    restriction = grant.restriction if grant is not None else None
    if restriction is not None:
        if patch.action.value not in restriction.actions:
            raise AccessDenied(f"a crew member may not {patch.action.value} an incident")
        crew_id = queries.crew_of(session, incident_id)
        if crew_id is None or crew_id != principal.crew_id:
            raise AccessDenied("a crew member acts only on incidents assigned to their crew")
    return principal.name


ActorDep = Annotated[str, Depends(current_actor)]


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


def _statuses(status: str | None) -> frozenset[IncidentStatus] | None:
    if status is None:
        return None
    if status == ACTIVE_FILTER:
        return ACTIVE
    try:
        return frozenset({IncidentStatus(status)})
    except ValueError:
        known = ", ".join([ACTIVE_FILTER, *IncidentStatus])
        raise HTTPException(
            status_code=422, detail=f"unknown status {status!r}; use one of: {known}"
        ) from None


@router.get("/incidents", response_model=list[IncidentOut], dependencies=READ)
def list_incidents(
    session: SessionDep,
    status: Annotated[
        str | None,
        Query(
            max_length=40,
            description='"active" (not restored, closed or cancelled) or one status',
        ),
    ] = None,
    feeder: Annotated[str | None, Query(max_length=200, description="Feeder name")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[IncidentOut]:
    """Incidents, newest first."""
    return queries.list_incidents(
        session, statuses=_statuses(status), feeder=feeder, limit=limit, offset=offset
    )


# Registered before /incidents/{incident_id}, so the path is never taken for an id.
@router.get(
    "/incidents.geojson",
    response_model=IncidentFeatureCollection,
    response_class=GeoJSONResponse,
    dependencies=READ,
)
def incidents_geojson(
    session: SessionDep,
    live: TopologyDep,
    feeder: Annotated[str | None, Query(max_length=200, description="Feeder name")] = None,
) -> IncidentFeatureCollection:
    """Active incidents for the dispatcher map: on the device, or the premise of a
    single-service outage, each with the actions it takes now and its crew's name. Staff
    only: the public map aggregates."""
    found = queries.incidents_geojson(
        session,
        feeder=feeder,
        history=NetworkHistory.load(session, live.get(session)),
        energized=live.energized(session),
    )
    names = crew_names(session)
    for feature in found.features:
        crew_id = feature.properties.crew_id
        feature.properties.crew_name = names.get(crew_id) if crew_id is not None else None
    return found


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut, dependencies=READ)
def get_incident(incident_id: int, session: SessionDep) -> IncidentDetailOut:
    """One incident with its evidence counts, nested incidents and audit trail."""
    return queries.get_incident(session, incident_id)


@router.patch(
    "/incidents/{incident_id}",
    response_model=IncidentOut,
    dependencies=[Depends(require("incidents.act"))],
)
def act_on_incident(
    incident_id: int,
    patch: IncidentPatch,
    session: SessionDep,
    actor: ActorDep,
    live: TopologyDep,
) -> IncidentOut:
    """A dispatcher or crew action: confirm, assign, unassign, en_route, on_site,
    partial_restore, restored, cancel, close, set_cause, set_etr, and a dispatcher's
    edits: move, split, merge, restored_by_switching.

    409 when the lifecycle does not allow it or `expected_version` is stale.
    """
    try:
        return apply_action(session, incident_id, patch, actor, live=live)
    except StaleDataError as exc:
        raise HTTPException(
            status_code=409, detail="the incident changed meanwhile; reload and try again"
        ) from exc


@router.post(
    "/incidents",
    response_model=IncidentOut,
    status_code=201,
    dependencies=[Depends(require("incidents.create"))],
)
def create_incident(
    body: IncidentCreate, session: SessionDep, principal: PrincipalDep, live: TopologyDep
) -> IncidentOut:
    """A confirmed outage at a device nobody reported (a crew found the damage); its
    customers are told. 409 when an incident is already active on the device."""
    incident_id = edits.create(
        session,
        body.device,
        operated=live.get(session),
        cause=body.cause,
        started_at=body.started_at,
        actor=principal.name,
        reason=body.reason,
    )
    return incident_out(session, incident_id)
