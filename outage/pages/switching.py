"""The control room's switching page: every device out of its normal state (since when,
by whom, why), a return to normal drafted in one click, and the switching orders.

Server-rendered, no script: each "return to normal" button is a form posting to
`/switching/return-to-normal`, which drafts the order (`outage.orders.normal`) and comes
back to this page naming it, or with the reason it was refused. The order is then
approved and carried out through the API (`docs/switching.md`). Staff only, never cached.
"""

from collections.abc import Mapping
from datetime import tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict

from outage import clock, i18n
from outage.errors import DomainError
from outage.grid.switching import AbnormalDevice, abnormal_devices
from outage.orders import normal
from outage.orders import service as orders
from outage.orders.enums import OrderState, StepState
from outage.orders.schemas import OrderOut
from outage.pages.staff import redirect, staff_page
from outage.web.deps import SessionDep, SettingsDep, TopologyDep
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import local_moment, request_language

router = APIRouter(include_in_schema=False, tags=["switching pages"])

RECENT_ORDERS = 50


def _device_row(device: AbnormalDevice, language: i18n.Language, zone: tzinfo) -> dict[str, Any]:
    t = i18n.strings(language)
    return {
        "asset_ref": device.asset_ref,
        "kind": i18n.label(language, "device_kind", device.kind),
        "state": t["switching_open"] if device.is_open else t["switching_closed"],
        "normal": t["switching_open"] if device.normal_open else t["switching_closed"],
        "since": local_moment(device.since, language, zone) if device.since else None,
        "by": device.actor or "",
        "source": i18n.label(language, "switch_source", device.source) if device.source else "",
        "why": device.reason or "",
        "tripped": device.tripped,
    }


def _held(order: OrderOut, t: Mapping[str, str]) -> str | None:
    """Why a held order waits: its failed step and the reason."""
    failed = next((s for s in order.steps if s.state is StepState.FAILED), None)
    if order.state is not OrderState.HELD or failed is None:
        return None
    return t["switching_held"].format(step=failed.position, reason=failed.remark or "")


def _order_row(order: OrderOut, language: i18n.Language) -> dict[str, Any]:
    t = i18n.strings(language)
    return {
        "id": order.id,
        "title": order.title,
        "state": i18n.label(language, "order_state", order.state),
        "steps": len(order.steps),
        "done": sum(1 for step in order.steps if step.state.value == "done"),
        "interrupted": order.check.get("interrupted", 0),
        "ok": order.check.get("ok", True),
        "created_by": order.created_by,
        "held": _held(order, t),
    }


@router.get(
    "/switching",
    response_class=HTMLResponse,
    dependencies=[Depends(require("orders.read", page=True))],
)
def switching_page(
    request: Request,
    session: SessionDep,
    staff: PrincipalDep,
    config: SettingsDep,
    lang: str | None = None,
    drafted: int | None = None,
    refused: str | None = None,
) -> HTMLResponse:
    """Devices out of their normal state, longest first, and the latest orders."""
    language = request_language(request, lang)
    t = i18n.strings(language)
    zone = config.local_timezone
    context = {
        "devices": [_device_row(d, language, zone) for d in abnormal_devices(session)],
        "orders": [
            _order_row(o, language) for o in orders.list_orders(session, limit=RECENT_ORDERS)
        ],
        "may_draft": staff.may("orders.draft"),
        "drafted": t["switching_drafted"].format(id=drafted) if drafted else None,
        "refused": t["switching_refused"].format(reason=refused[:300]) if refused else None,
    }
    return staff_page(
        "switching.html", language, context, path="/switching", params={}, staff=staff
    )


class ReturnForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    asset_ref: list[str] = []
    """The devices to return; none: every device an operator left out of normal."""
    allow_loops: bool = False
    lang: str = ""


@router.post(
    "/switching/return-to-normal",
    dependencies=[Depends(require("orders.draft", page=True))],
)
def return_to_normal(
    form: Annotated[ReturnForm, Form()],
    session: SessionDep,
    live: TopologyDep,
    staff: PrincipalDep,
) -> RedirectResponse:
    """Draft the return to normal, then back to the page naming the order drafted."""
    try:
        with session.begin_nested():
            order = normal.return_to_normal(
                session,
                form.asset_ref or None,
                allow_loops=form.allow_loops,
                title=None,
                actor=staff.name,
                topology=live.energized(session),
                now=clock.now(),
            )
    except DomainError as refusal:
        return redirect("/switching", {"lang": form.lang, "refused": str(refusal)})
    return redirect("/switching", {"lang": form.lang, "drafted": str(order.id)})
