"""Rendering the HTML pages: one Jinja environment, the language switch, local times.

The templates and static files live beside the pages (`outage/pages/templates`,
`outage/pages/static`); every page module renders through `render_page`, so each page
gets the same autoescaping, language headers and switch to the other language.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request, status
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from outage import clock, i18n
from outage.i18n import Language, dates, times
from outage.moments import local_time
from outage.settings import Settings

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
STATIC_DIR = PAGES_DIR / "static"

templates = Environment(
    loader=FileSystemLoader(PAGES_DIR / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
"""Every page's templates (autoescaped: customer text is safe in them)."""


def static_files() -> StaticFiles:
    """The pages' CSS and scripts, to mount at /static."""
    return StaticFiles(directory=STATIC_DIR)


def request_language(request: Request, requested: str | None) -> Language:
    """?lang= when given, else the browser's Accept-Language, else Vietnamese."""
    return i18n.choose_language(requested, request.headers.get("accept-language"))


def language_context(
    language: Language,
    path: str,
    params: Mapping[str, str] | None = None,
    words: Callable[[Language], Mapping[str, str]] = i18n.strings,
) -> dict[str, Any]:
    """What the base templates need: the page's words and the switch to the other
    language, which leads to `path` with the non-empty `params`, so nothing typed is lost."""
    other = i18n.other_language(language)
    kept = {name: value for name, value in (params or {}).items() if value}
    return {
        "lang": language,
        "t": words(language),
        "other_lang": other,
        "other_t": words(other),
        "switch_url": f"{quote(path)}?{urlencode({**kept, 'lang': other})}",
    }


def render_page(
    template: str,
    language: Language,
    context: Mapping[str, Any],
    *,
    path: str,
    params: Mapping[str, str] | None = None,
    words: Callable[[Language], Mapping[str, str]] = i18n.strings,
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page in `language`, its switch to the other language leading to `path`."""
    html = templates.get_template(template).render(
        **language_context(language, path, params, words), **context
    )
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    return response


def local_zone(request: Request) -> tzinfo:
    """The utility's local time (the `local_timezone` setting of the app serving `request`)."""
    config: Settings = request.app.state.settings
    return config.local_timezone


def local_moment(
    moment: datetime, language: Language, zone: tzinfo, now: datetime | None = None
) -> dict[str, str]:
    """A moment in local time `zone`: ISO for <time datetime>, text to read, written as
    every page writes a time (`i18n.dates`: today's by its time, others with their day).

    A moment local time cannot hold is shown in UTC rather than failing the page."""
    local = local_time(moment, zone) or moment.astimezone(UTC)
    return {
        "iso": local.isoformat(timespec="minutes"),
        "text": dates.moment_text(local, language, now or clock.now()),
    }


def local_etr(
    etr: datetime,
    earliest: datetime | None,
    latest: datetime | None,
    language: Language,
    zone: tzinfo,
    now: datetime | None = None,
) -> dict[str, str]:
    """An ETR as `local_moment` gives a moment, its text with the range the restoration
    likely falls in (`i18n.times`): "18:30 (likely between 17:45 and 19:30)"."""
    now = now or clock.now()
    text = times.etr(etr, earliest, latest, language, zone, now)
    return {**local_moment(etr, language, zone, now), "text": text}


def date_style(language: Language, zone: tzinfo) -> dict[str, Any]:
    """The page scripts' way to write times (`static/dates.js`), as the server writes them."""
    return dates.client_style(language, str(zone))
