"""Customers' alert pages: subscribe a phone or e-mail with a one-time code (`/alerts`),
change or stop it with the subscription's token (`/alerts/s/{token}`), and the
unsubscribe link every message carries (`/u/{token}`).

Plain HTML forms like the other customer pages, in Vietnamese or English. Nothing of the
customer is shown: the contact is masked, the account is the one the visitor typed. The
unsubscribe link's GET only shows what would stop (mail scanners follow links); its
POST stops it.
"""

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from outage import i18n
from outage.errors import RateLimited
from outage.i18n import Language
from outage.notifications import selfservice, subscriptions, unsubscribe
from outage.notifications.codes import Outcome
from outage.notifications.models import Subscription
from outage.notifications.preferences import UnknownCustomer
from outage.notifications.schemas import CodeIn, SubscriptionIn, SubscriptionOut, SubscriptionPatch
from outage.notifications.subscriptions import InvalidContact, UnknownAddress, UnknownSubscription
from outage.web.deps import LimitsDep, SessionDep, SettingsDep, client_ip
from outage.web.principal import require
from outage.web.rendering import render_page, request_language

router = APIRouter(include_in_schema=False, tags=["pages"])


class AlertsForm(BaseModel):
    """The subscribe form as posted."""

    model_config = ConfigDict(extra="ignore")

    account: str = ""
    address: str = ""
    contact: str = ""
    language: str = ""
    lang: str = ""


class CodeForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: str = ""
    lang: str = ""


def _page(
    request: Request,
    language: Language,
    context: Mapping[str, Any],
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    return render_page(
        "alerts.html",
        language,
        {"s": i18n.catalogue("alerts", language), **context},
        path=request.url.path,
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def _form(
    request: Request,
    language: Language,
    form: AlertsForm,
    error: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    return _page(
        request,
        language,
        {"step": "form", "values": form.model_dump(), "error": error},
        status_code,
    )


def _code_step(
    request: Request,
    language: Language,
    handle: str,
    minutes: int,
    error: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    context = {"step": "code", "handle": handle, "minutes": minutes, "error": error}
    return _page(request, language, context, status_code)


def _minutes(exc: RateLimited) -> str:
    return str(max(1, math.ceil(exc.retry_after_s / 60)))


@router.get("/alerts", dependencies=[Depends(require("alerts.subscribe"))])
def alerts_form(request: Request, lang: str | None = None) -> HTMLResponse:
    language = request_language(request, lang)
    return _form(request, language, AlertsForm(language=language))


@router.post("/alerts", dependencies=[Depends(require("alerts.subscribe"))])
def alerts_subscribe(
    request: Request,
    form: Annotated[AlertsForm, Form()],
    session: SessionDep,
    config: SettingsDep,
    limits: LimitsDep,
) -> HTMLResponse:
    """Send the code, or show the form again with what is wrong."""
    language = request_language(request, form.lang)
    s = i18n.catalogue("alerts", language)
    given = {k: v.strip() for k, v in form.model_dump(include={"account", "address"}).items()}
    try:
        asked = SubscriptionIn(
            account=given["account"] or None,
            address=given["address"] or None,
            contact=form.contact.strip(),
            language=i18n.choose_language(form.language or language, None),
        )
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        key = "error_contact" if "contact" in fields else "error_target"
        return _form(request, language, form, s[key], 422)
    try:
        limits.check(ip=client_ip(request), phone=None)
        with session.begin_nested():  # a refused request stores nothing
            pending = selfservice.request(session, asked, config, datetime.now(UTC))
    except UnknownCustomer:
        return _form(request, language, form, s["error_account"], 404)
    except UnknownAddress:
        return _form(request, language, form, s["error_address"], 422)
    except InvalidContact:
        return _form(request, language, form, s["error_contact"], 422)
    except RateLimited as exc:
        message = s["error_too_many"].format(minutes=_minutes(exc))
        return _form(request, language, form, message, 429)
    return _code_step(request, language, pending.handle, pending.code_expires_in_minutes)


@router.post("/alerts/{handle}/verify", dependencies=[Depends(require("alerts.subscribe"))])
def alerts_verify(
    handle: str,
    request: Request,
    form: Annotated[CodeForm, Form()],
    session: SessionDep,
    config: SettingsDep,
    limits: LimitsDep,
) -> HTMLResponse:
    """The code from the message: done, or the code form again (a wrong try counts)."""
    language = request_language(request, form.lang)
    s = i18n.catalogue("alerts", language)
    minutes = int(config.subscription_code_minutes.total_seconds() // 60)
    try:
        code = CodeIn(code=form.code.strip()).code
    except ValidationError:
        return _code_step(request, language, handle, minutes, s["error_code"], 422)
    try:
        limits.check(ip=client_ip(request), phone=None)
        outcome, row = selfservice.verify(session, handle, code, config, datetime.now(UTC))
    except UnknownSubscription:
        return _code_step(request, language, handle, minutes, s["error_expired"], 404)
    except RateLimited as exc:
        message = s["error_too_many"].format(minutes=_minutes(exc))
        return _code_step(request, language, handle, minutes, message, 429)
    if outcome is Outcome.VERIFIED:
        return _page(request, language, {"step": "done", "token": row.token})
    if outcome is Outcome.WRONG:
        return _code_step(request, language, handle, minutes, s["error_code"], 422)
    code_status = 429 if outcome is Outcome.SPENT else 422
    return _code_step(request, language, handle, minutes, s["error_expired"], code_status)


class ManageForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    language: str = ""
    quiet_hours: str = ""
    lang: str = ""


def _manage_page(
    request: Request,
    language: Language,
    token: str,
    shown: SubscriptionOut | None,
    note: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    if shown is None:
        context: dict[str, Any] = {"step": "stop", "token": token, "view": None}
        return _page(request, language, context, status.HTTP_404_NOT_FOUND)
    context = {"step": "manage", "token": token, "shown": shown, "note": note}
    return _page(request, language, context, status_code)


def _subscription(session: Session, token: str) -> Subscription | None:
    try:
        return subscriptions.by_token(session, token)
    except UnknownSubscription:
        return None


@router.get("/alerts/s/{token}", dependencies=[Depends(require("alerts.subscribe"))])
def manage_page(
    token: str, request: Request, session: SessionDep, lang: str | None = None
) -> HTMLResponse:
    """The subscription, masked, with its settings and the button that stops it."""
    row = _subscription(session, token)
    language = request_language(request, lang or (row.language if row else None))
    return _manage_page(request, language, token, selfservice.view(session, row) if row else None)


@router.post("/alerts/s/{token}", dependencies=[Depends(require("alerts.subscribe"))])
def manage_change(
    token: str,
    request: Request,
    form: Annotated[ManageForm, Form()],
    session: SessionDep,
) -> HTMLResponse:
    """Change the language or the quiet hours."""
    language = request_language(request, form.lang)
    s = i18n.catalogue("alerts", language)
    row = _subscription(session, token)
    if row is None:
        return _manage_page(request, language, token, None)
    try:
        patch = SubscriptionPatch(
            language=form.language or None, quiet_hours=form.quiet_hours.strip() or None
        )
    except ValidationError:
        shown = selfservice.view(session, row)
        return _manage_page(request, language, token, shown, s["error_quiet"], 422)
    return _manage_page(
        request, language, token, selfservice.amend(session, row, patch), s["saved"]
    )


@router.post("/alerts/s/{token}/stop", dependencies=[Depends(require("alerts.subscribe"))])
def manage_stop(
    token: str, request: Request, session: SessionDep, lang: str | None = None
) -> HTMLResponse:
    """Stop the subscription."""
    language = request_language(request, lang)
    row = _subscription(session, token)
    shown = selfservice.unsubscribe(session, row) if row is not None else None
    return _manage_page(request, language, token, shown)


def _stop_page(
    request: Request, token: str, view: unsubscribe.StopView | None, lang: str | None
) -> HTMLResponse:
    language = view.language if view is not None else i18n.DEFAULT_LANGUAGE
    if lang:
        language = i18n.choose_language(lang, None)
    code = status.HTTP_404_NOT_FOUND if view is None else status.HTTP_200_OK
    context = {"step": "stop", "token": token, "view": view}
    return _page(request, language, context, code)


@router.get("/u/{token}", dependencies=[Depends(require("alerts.unsubscribe"))])
def unsubscribe_page(
    token: str, request: Request, session: SessionDep, lang: str | None = None
) -> HTMLResponse:
    """What the link would stop, and the button that stops it (a GET changes nothing)."""
    return _stop_page(request, token, unsubscribe.find(session, token), lang)


@router.post("/u/{token}", dependencies=[Depends(require("alerts.unsubscribe"))])
def unsubscribe_stop(
    token: str, request: Request, session: SessionDep, lang: str | None = None
) -> HTMLResponse:
    """Stop the contact the message went to."""
    return _stop_page(request, token, unsubscribe.stop_by_link(session, token), lang)
