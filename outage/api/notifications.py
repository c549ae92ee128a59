"""HTTP routes of notifications: agents' view of a customer's messages and preferences,
the export of an incident's messages, planned outages, and customers' own alert
subscriptions (public: a one-time code proves the contact, a token then manages it)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import JSONResponse, Response

from outage import clock
from outage.notifications import planned, preferences, selfservice, service, subscriptions
from outage.notifications.codes import Outcome
from outage.notifications.enums import PlannedStatus
from outage.notifications.schemas import (
    CodeIn,
    NotificationOut,
    PlannedOutageIn,
    PlannedOutageOut,
    PlannedOutagePatch,
    PreferencesIn,
    PreferencesOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    SubscriptionPending,
    SubscriptionVerified,
)
from outage.web.deps import (
    MAX_OFFSET,
    LimitsDep,
    SessionDep,
    SettingsDep,
    TopologyDep,
    client_ip,
)
from outage.web.downloads import csv_attachment
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
    return csv_attachment(body, name)


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
        now=clock.now(),
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
    return planned.change(session, planned_id, patch, now=clock.now(), settings=config)


@router.delete(
    "/planned-outages/{planned_id}",
    response_model=PlannedOutageOut,
    dependencies=[Depends(require("planned.manage"))],
)
def cancel_planned(planned_id: int, session: SessionDep) -> PlannedOutageOut:
    """Call the work off; customers noticed already are told."""
    return planned.cancel(session, planned_id)


# --- customers' own alert subscriptions --------------------------------------------------

Handle = Annotated[str, Path(min_length=16, max_length=32)]
Token = Annotated[str, Path(min_length=16, max_length=64)]

_REFUSED = {
    Outcome.WRONG: (status.HTTP_422_UNPROCESSABLE_CONTENT, "the code is wrong"),
    Outcome.EXPIRED: (
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        "the code has expired (or none was sent): ask for a new one",
    ),
    Outcome.SPENT: (
        status.HTTP_429_TOO_MANY_REQUESTS,
        "too many wrong tries for this code: ask for a new one",
    ),
}


@router.post(
    "/subscriptions",
    response_model=SubscriptionPending,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require("alerts.subscribe"))],
    responses={429: {"description": "Too many codes sent to this contact in the last hour"}},
)
def request_subscription(
    asked: SubscriptionIn,
    request: Request,
    session: SessionDep,
    config: SettingsDep,
    limits: LimitsDep,
) -> SubscriptionPending:
    """Ask for a customer's (or an address's) outage alerts at a phone or e-mail address:
    a one-time code goes there, to be given back under its handle to
    `POST /subscriptions/{handle}/verify`."""
    limits.check(ip=client_ip(request), phone=None)
    return selfservice.request(session, asked, config, datetime.now(UTC))


@router.post(
    "/subscriptions/{handle}/code",
    response_model=SubscriptionPending,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require("alerts.subscribe"))],
    responses={429: {"description": "Too many codes sent to this contact in the last hour"}},
)
def resend_code(
    handle: Handle,
    request: Request,
    session: SessionDep,
    config: SettingsDep,
    limits: LimitsDep,
) -> SubscriptionPending:
    """Send a new code, under a new handle (the older ones no longer count)."""
    limits.check(ip=client_ip(request), phone=None)
    return selfservice.resend(session, handle, config, datetime.now(UTC))


@router.post(
    "/subscriptions/{handle}/verify",
    response_model=SubscriptionVerified,
    dependencies=[Depends(require("alerts.subscribe"))],
    responses={422: {"description": "Wrong or expired code"}, 429: {"description": "Spent"}},
)
def verify_subscription(
    handle: Handle,
    given: CodeIn,
    request: Request,
    session: SessionDep,
    config: SettingsDep,
    limits: LimitsDep,
) -> SubscriptionVerified | JSONResponse:
    """The code sent to the contact: the subscription is verified and its token given.

    A wrong code counts against it (committed, so the limit holds)."""
    limits.check(ip=client_ip(request), phone=None)
    outcome, row = selfservice.verify(session, handle, given.code, config, datetime.now(UTC))
    if outcome is not Outcome.VERIFIED:
        code, reason = _REFUSED[outcome]
        return JSONResponse({"detail": reason, "code": outcome.value}, status_code=code)
    shown = selfservice.view(session, row)
    return SubscriptionVerified(**shown.model_dump(), token=row.token)


@router.get(
    "/subscriptions/{token}",
    response_model=SubscriptionOut,
    dependencies=[Depends(require("alerts.subscribe"))],
)
def get_subscription(token: Token, session: SessionDep) -> SubscriptionOut:
    return selfservice.view(session, subscriptions.by_token(session, token))


@router.patch(
    "/subscriptions/{token}",
    response_model=SubscriptionOut,
    dependencies=[Depends(require("alerts.subscribe"))],
)
def change_subscription(
    token: Token, patch: SubscriptionPatch, session: SessionDep
) -> SubscriptionOut:
    """Change the language or quiet hours."""
    return selfservice.amend(session, subscriptions.by_token(session, token), patch)


@router.delete(
    "/subscriptions/{token}",
    response_model=SubscriptionOut,
    dependencies=[Depends(require("alerts.subscribe"))],
)
def stop_subscription(token: Token, session: SessionDep) -> SubscriptionOut:
    """No more messages to this contact for this account or address."""
    return selfservice.unsubscribe(session, subscriptions.by_token(session, token))
