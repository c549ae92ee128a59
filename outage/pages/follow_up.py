"""The public follow-up answer: the link in a "still out?" message leads here, two buttons."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse

from outage import i18n
from outage.notifications import followup
from outage.notifications.enums import Reply
from outage.web.deps import SessionDep, SettingsDep
from outage.web.principal import require
from outage.web.rendering import language_context, templates

router = APIRouter(include_in_schema=False, tags=["pages"])


def _page(
    request: Request, token: str, view: followup.FollowUpView | None, lang: str | None
) -> HTMLResponse:
    language = i18n.DEFAULT_LANGUAGE if view is None else view.language
    if lang:
        language = i18n.choose_language(lang, None)
    html = templates.get_template("follow_up.html").render(
        **language_context(language, request.url.path),
        s=i18n.catalogue("follow_up", language),
        token=token,
        view=view,
    )
    code = status.HTTP_404_NOT_FOUND if view is None else status.HTTP_200_OK
    response = HTMLResponse(html, status_code=code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = language
    return response


@router.get("/n/{token}", dependencies=[Depends(require("notifications.reply", page=True))])
def follow_up_page(
    token: str, request: Request, session: SessionDep, lang: str | None = None
) -> HTMLResponse:
    """The link in a "still out?" message: two buttons."""
    return _page(request, token, followup.find(session, token[:64]), lang)


@router.post("/n/{token}", dependencies=[Depends(require("notifications.reply", page=True))])
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
