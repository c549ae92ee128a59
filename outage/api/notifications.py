"""HTTP routes of notifications: agents' view of a customer's messages and preferences,
the export of an incident's messages, planned outages, and the public follow-up answer."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response

from outage.notifications import planned, preferences, service
from outage.notifications.enums import PlannedStatus
from outage.notifications.schemas import (
    NotificationOut,
    PlannedOutageIn,
    PlannedOutageOut,
    PlannedOutagePatch,
    PreferencesIn,
    PreferencesOut,
)
from outage.web.deps import MAX_OFFSET, SessionDep, SettingsDep, TopologyDep
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import PAGES_DIR as PAGES_DIR

Account = Annotated[str, Query(min_length=1, max_length=64, description="The customer's account")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get(
    "/notifications",
    response_model=list[NotificationOut],
    dependencies=[Depends(require("notifications.read"))],
)
def customer_notifications(
    session: SessionDep, customer: Account, limit: Limit = 100, offset: Offset = 0
) -> list[NotificationOut]:
    """A customer's messages, newest first, with how each delivery went."""
    return service.history(session, customer, limit=limit, offset=offset)


@router.get(
    "/notifications/preferences",
    response_model=PreferencesOut,
    dependencies=[Depends(require("notifications.read"))],
)
def get_preferences(session: SessionDep, customer: Account) -> PreferencesOut:
    return preferences.get_preferences(session, customer)


@router.put(
    "/notifications/preferences",
    response_model=PreferencesOut,
    dependencies=[Depends(require("notifications.preferences"))],
)
def set_preferences(
    session: SessionDep, customer: Account, chosen: PreferencesIn
) -> PreferencesOut:
    """Replace the customer's preferences; fields left out go back to the defaults."""
    return preferences.set_preferences(session, customer, chosen)


@router.get(
    "/incidents/{incident_id}/notifications.csv",
    response_class=Response,
    dependencies=[Depends(require("notifications.export"))],
    responses={200: {"content": {"text/csv": {}}}},
)
def export_notifications(incident_id: int, session: SessionDep) -> Response:
    """Every message written for the incident (customers by account), as CSV."""
    body = service.export_csv(session, incident_id)
    name = f"incident-{incident_id}-notifications.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/planned-outages",
    response_model=list[PlannedOutageOut],
    dependencies=[Depends(require("planned.read"))],
)
def list_planned(
    session: SessionDep,
    status_: Annotated[PlannedStatus | None, Query(alias="status")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[PlannedOutageOut]:
    return planned.list_planned(session, status=status_, limit=limit, offset=offset)


@router.post(
    "/planned-outages",
    response_model=PlannedOutageOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require("planned.manage"))],
)
def schedule_planned(
    plan: PlannedOutageIn,
    session: SessionDep,
    live: TopologyDep,
    principal: PrincipalDep,
    config: SettingsDep,
) -> PlannedOutageOut:
    """Schedule maintenance on a device; its customers get a notice ahead of time."""
    return planned.schedule(
        session,
        plan,
        actor=principal.name,
        topology=live.get(session),
        now=datetime.now(UTC),
        settings=config,
    )


@router.patch(
    "/planned-outages/{planned_id}",
    response_model=PlannedOutageOut,
    dependencies=[Depends(require("planned.manage"))],
)
def change_planned(
    planned_id: int, patch: PlannedOutagePatch, session: SessionDep, config: SettingsDep
) -> PlannedOutageOut:
    """Move the window or reword the reason; customers noticed already hear of a move."""
    return planned.change(session, planned_id, patch, now=datetime.now(UTC), settings=config)


@router.delete(
    "/planned-outages/{planned_id}",
    response_model=PlannedOutageOut,
    dependencies=[Depends(require("planned.manage"))],
)
def cancel_planned(planned_id: int, session: SessionDep) -> PlannedOutageOut:
    """Call the work off; customers noticed already are told."""
    return planned.cancel(session, planned_id)
