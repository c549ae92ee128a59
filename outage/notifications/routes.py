"""HTTP routes of notifications: agents' view of a customer's messages and preferences,
the export of an incident's messages, planned outages, and the public follow-up answer."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from jinja2 import ChoiceLoader, FileSystemLoader

from outage.auth.principal import PrincipalDep, require
from outage.notifications import followup, planned, preferences, service
from outage.notifications.enums import PlannedStatus, Reply
from outage.notifications.schemas import (
    NotificationOut,
    PlannedOutageIn,
    PlannedOutageOut,
    PlannedOutagePatch,
    PreferencesIn,
    PreferencesOut,
)
from outage.pages import i18n
from outage.pages.routes import HERE as PAGES_DIR
from outage.pages.routes import language_context, templates
from outage.web.deps import MAX_OFFSET, SessionDep, SettingsDep, TopologyDep

Account = Annotated[str, Query(min_length=1, max_length=64, description="The customer's account")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]

api = APIRouter(prefix="/api/v1", tags=["notifications"])
pages = APIRouter(include_in_schema=False, tags=["pages"])


@api.get(
    "/notifications",
    response_model=list[NotificationOut],
    dependencies=[Depends(require("notifications.read"))],
)
def customer_notifications(
    session: SessionDep, customer: Account, limit: Limit = 100, offset: Offset = 0
) -> list[NotificationOut]:
    """A customer's messages, newest first, with how each delivery went."""
    return service.history(session, customer, limit=limit, offset=offset)


@api.get(
    "/notifications/preferences",
    response_model=PreferencesOut,
    dependencies=[Depends(require("notifications.read"))],
)
def get_preferences(session: SessionDep, customer: Account) -> PreferencesOut:
    return preferences.get_preferences(session, customer)


@api.put(
    "/notifications/preferences",
    response_model=PreferencesOut,
    dependencies=[Depends(require("notifications.preferences"))],
)
def set_preferences(
    session: SessionDep, customer: Account, chosen: PreferencesIn
) -> PreferencesOut:
    """Replace the customer's preferences; fields left out go back to the defaults."""
    return preferences.set_preferences(session, customer, chosen)


@api.get(
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


@api.get(
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


@api.post(
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


@api.patch(
    "/planned-outages/{planned_id}",
    response_model=PlannedOutageOut,
    dependencies=[Depends(require("planned.manage"))],
)
def change_planned(
    planned_id: int, patch: PlannedOutagePatch, session: SessionDep, config: SettingsDep
) -> PlannedOutageOut:
    """Move the window or reword the reason; customers noticed already hear of a move."""
    return planned.change(session, planned_id, patch, now=datetime.now(UTC), settings=config)


@api.delete(
    "/planned-outages/{planned_id}",
    response_model=PlannedOutageOut,
    dependencies=[Depends(require("planned.manage"))],
)
def cancel_planned(planned_id: int, session: SessionDep) -> PlannedOutageOut:
    """Call the work off; customers noticed already are told."""
    return planned.cancel(session, planned_id)


# --- the follow-up answer page ---------------------------------------------------------

PAGE_STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Nhà quý khách đã có điện chưa?",
        "question": (
            "Điện đã được cấp lại cho khu vực của quý khách. Nhà quý khách đã có điện chưa?"
        ),
        "still_out": "Vẫn mất điện",
        "restored": "Đã có điện",
        "thanks_still_out": "Cảm ơn quý khách. Chúng tôi đã ghi nhận nhà quý khách vẫn mất điện.",
        "thanks_restored": "Cảm ơn quý khách đã cho chúng tôi biết.",
        "ticket": "Mã số báo mất điện:",
        "not_found": "Không tìm thấy liên kết này. Có thể liên kết đã sai hoặc hết hạn.",
    },
    "en": {
        "title": "Is your power back?",
        "question": "Power is back in your area. Is it back in your home?",
        "still_out": "Still without power",
        "restored": "Power is back",
        "thanks_still_out": "Thank you. We have noted that you are still without power.",
        "thanks_restored": "Thank you for letting us know.",
        "ticket": "Outage report ticket:",
        "not_found": "We do not know this link. It may be mistyped or expired.",
    },
}

_templates = templates.overlay(
    loader=ChoiceLoader(
        [
            FileSystemLoader(Path(__file__).resolve().parent / "templates" / "pages"),
            FileSystemLoader(PAGES_DIR / "templates"),
        ]
    )
)
"""The pages' templates (and their settings), with this page's own first."""


def _page(
    request: Request, token: str, view: followup.FollowUpView | None, lang: str | None
) -> HTMLResponse:
    language = i18n.choose_language(lang, None) if lang else (view.language if view else "vi")
    html = _templates.get_template("follow_up.html").render(
        **language_context(language, request.url.path),
        s=PAGE_STRINGS[language],
        token=token,
        view=view,
    )
    code = status.HTTP_404_NOT_FOUND if view is None else status.HTTP_200_OK
    response = HTMLResponse(html, status_code=code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = language
    return response


@pages.get("/n/{token}", dependencies=[Depends(require("notifications.reply", page=True))])
def follow_up_page(
    token: str, request: Request, session: SessionDep, lang: str | None = None
) -> HTMLResponse:
    """The link in a "still out?" message: two buttons."""
    return _page(request, token, followup.find(session, token[:64]), lang)


@pages.post("/n/{token}", dependencies=[Depends(require("notifications.reply", page=True))])
def follow_up_answer(
    token: str,
    request: Request,
    session: SessionDep,
    config: SettingsDep,
    answer: Annotated[Reply, Form()],
    lang: str | None = None,
) -> HTMLResponse:
    """Record the answer; "still out" files an outage report the engine will see."""
    return _page(request, token, followup.answer(session, token[:64], answer, config), lang)


router = APIRouter()
router.include_router(api)
router.include_router(pages)
