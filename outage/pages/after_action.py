"""The after-action report's page: how a storm or a period went, for the supervisor.

The figures are `outage.reliability.after_action`'s; the charts are SVG drawn on the
server (`outage.pages.charts`, drawn by `supervisor_charts.html`), as on the dashboard:
customers out hour by hour, outages opened and restored, crew hours on shift and on jobs,
and the first ETRs' errors. A form picks the period (days) or a storm; without one the
page shows the last `DEFAULT_SPAN`. A period the report refuses is said on the page
(status 422), an unknown storm too (404). Every text is escaped by Jinja's autoescape.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from outage import clock, i18n
from outage.errors import DomainError, NotFound
from outage.i18n import Language
from outage.pages import charts
from outage.pages.staff import staff_page
from outage.reliability import after_action as aar
from outage.reliability.service import InvalidPeriod
from outage.storms import service as storms
from outage.storms.enums import StormPhase
from outage.web.deps import SessionDep
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import local_moment, request_language

DEFAULT_SPAN = timedelta(hours=24)
"""The page's period when none is asked for: the last day, up to now."""
HOUR_LABELS = 12
"""At most this many hours are named under the hourly charts."""
ERROR_BANDS = (-60.0, -15.0, 15.0, 60.0)
"""The first ETRs' errors (minutes, late positive) are counted in the bands these bound:
over an hour early, 15 to 60 minutes early, within 15 minutes, 15 to 60 late, over an
hour late."""
STORMS_LISTED = 20

router = APIRouter(include_in_schema=False, tags=["supervisor pages"])


LABEL_STEPS = (1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336)
"""Hours between the hours named under the hourly charts: the first that names at most
`HOUR_LABELS` of them."""


def hour_labels(hours: Sequence[datetime]) -> list[str]:
    """The names under an hourly chart of these local hours: some hours named, the others
    blank; by the time of day while a step is under a day, else by the date."""
    step = next((s for s in LABEL_STEPS if len(hours) <= s * HOUR_LABELS), LABEL_STEPS[-1])
    shown = "%d/%m" if step >= 24 else "%H:%M"
    return [f"{at:{shown}}" if i % step == 0 else "" for i, at in enumerate(hours)]


def _named(chart: charts.Chart, names: Sequence[str]) -> charts.Chart:
    """The chart with its categories named `names`: the points keep their full labels."""
    return dataclasses.replace(
        chart,
        categories=tuple(
            dataclasses.replace(c, label=name)
            for c, name in zip(chart.categories, names, strict=True)
        ),
    )


def error_bands(errors: Sequence[float]) -> list[int]:
    """How many errors fall in each band of `ERROR_BANDS` (a bound belongs to the band
    nearer to zero)."""
    counts = [0] * (len(ERROR_BANDS) + 1)
    for error in errors:
        if error < ERROR_BANDS[0]:
            counts[0] += 1
        elif error < ERROR_BANDS[1]:
            counts[1] += 1
        elif error <= ERROR_BANDS[2]:
            counts[2] += 1
        elif error <= ERROR_BANDS[3]:
            counts[3] += 1
        else:
            counts[4] += 1
    return counts


def _percent(share: float | None, t: Mapping[str, str]) -> str:
    return t["supervisor_not_applicable"] if share is None else f"{share:.0%}"


def _context(
    report: aar.AfterAction, language: Language, zone: tzinfo, now: datetime
) -> dict[str, Any]:
    t = i18n.strings(language)
    local = [h.at.astimezone(zone) for h in report.timeline]
    hours = [f"{at:%d/%m %H:%M}" for at in local]
    names = hour_labels(local)
    etr = report.etr
    crews = report.crews
    return {
        "period": {
            "start": local_moment(report.start, language, zone, now),
            "end": local_moment(report.end, language, zone, now),
            "as_of": local_moment(report.as_of, language, zone, now),
            "open": report.end >= report.as_of,
        },
        "storm": report.storm,
        "marks": [
            {
                "at": local_moment(mark.at, language, zone, now),
                "action": i18n.label(language, "storm_action", mark.action),
                "level": (
                    t["after_action_mark_level"].format(level=mark.level)
                    if mark.level is not None
                    else None
                ),
                "phase": (
                    i18n.label(language, "storm_phase", mark.phase)
                    if mark.phase in set(StormPhase)
                    else None
                ),
            }
            for mark in (report.storm.marks if report.storm else ())
        ],
        "timeline_chart": _named(
            charts.line_chart(hours, [[h.customers_out for h in report.timeline]], counts=True),
            names,
        ),
        "flow_chart": _named(
            charts.bar_chart(
                hours,
                [[h.opened for h in report.timeline], [h.restored for h in report.timeline]],
                counts=True,
            ),
            names,
        ),
        "peak": max((h.customers_out for h in report.timeline), default=0),
        "opened": sum(h.opened for h in report.timeline),
        "restored": sum(h.restored for h in report.timeline),
        "crews": [
            {
                "name": c.name,
                "shift": f"{c.shift_hours:.1f}",
                "jobs": f"{c.job_hours:.1f}",
                "share": c.utilisation,
                "share_text": _percent(c.utilisation, t),
            }
            for c in crews
        ],
        "crews_chart": (
            charts.bar_chart(
                [c.name for c in crews],
                [[c.shift_hours for c in crews], [c.job_hours for c in crews]],
                decimals=0,
                value_decimals=1,
            )
            if crews
            else None
        ),
        "etr": etr,
        "etr_error": (
            t["after_action_minutes"].format(minutes=f"{etr.median_abs_error_minutes:.0f}")
            if etr.median_abs_error_minutes is not None
            else t["supervisor_not_applicable"]
        ),
        "etr_coverage": _percent(etr.coverage, t),
        "errors_chart": (
            charts.bar_chart(
                [t[f"after_action_band_{i}"] for i in range(len(ERROR_BANDS) + 1)],
                [error_bands([f.error_minutes for f in etr.firsts])],
                counts=True,
            )
            if etr.firsts
            else None
        ),
        "lapses": [
            {
                "incident": lapse.incident_id,
                "told": local_moment(lapse.told_at, language, zone, now),
                "deadline": local_moment(lapse.deadline, language, zone, now),
            }
            for lapse in etr.lapses
        ],
        "told": report.told,
        "told_share": _percent(report.told.share, t),
        "notifications": [
            {
                "kind": i18n.label(language, "notification_kind", n.kind),
                "channel": i18n.label(language, "delivery_channel", n.channel),
                "sent": n.sent,
            }
            for n in report.notifications
        ],
    }


def refusal_text(refusal: DomainError, t: Mapping[str, str]) -> str:
    """Why the report was refused, in the reader's words: an unknown storm, a period the
    report does not take, or a form not filled in."""
    if isinstance(refusal, NotFound):
        return t["after_action_refused_storm"]
    if isinstance(refusal, InvalidPeriod):
        return t["after_action_refused_period"]
    return t["after_action_refused_input"]


def _day(value: str | None) -> date | None:
    """A day from the form; None when blank or not a day (the report then says why)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _report(
    session: Session,
    zone: tzinfo,
    now: datetime,
    start: str | None,
    end: str | None,
    storm: str | None,
) -> aar.AfterAction:
    if storm:
        if not storm.isdigit() or len(storm) > 9:
            raise aar.InvalidAfterAction(f"no storm {storm!r}")
        return aar.after_action(session, storm=int(storm), zone=zone, as_of=now)
    if not start and not end:
        return aar.after_action(session, start=now - DEFAULT_SPAN, end=now, zone=zone, as_of=now)
    first, last = _day(start), _day(end)
    if first is None or last is None:
        raise aar.InvalidAfterAction("give the first and the last day (YYYY-MM-DD)")
    return aar.after_action(session, start=first, end=last, zone=zone, as_of=now)


@router.get(
    "/after-action",
    response_class=HTMLResponse,
    dependencies=[Depends(require("reports.after_action", page=True))],
)
def after_action_page(
    request: Request,
    session: SessionDep,
    staff: PrincipalDep,
    lang: str | None = None,
    start: str | None = None,
    end: str | None = None,
    storm: str | None = None,
) -> HTMLResponse:
    """The after-action report of a storm or a period, with its charts."""
    language = request_language(request, lang)
    zone = request.app.state.settings.local_timezone
    now = clock.now()
    context: dict[str, Any] = {
        "form": {"start": start or "", "end": end or "", "storm": storm or ""},
        "storms": storms.list_storms(session, limit=STORMS_LISTED),
        "report": None,
        "refusal": None,
    }
    status = 200
    try:
        report = _report(session, zone, now, start, end, storm)
    except DomainError as refusal:
        context["refusal"] = refusal_text(refusal, i18n.strings(language))
        status = refusal.status
    else:
        context["report"] = _context(report, language, zone, now)
    params = {k: v for k, v in (("start", start), ("end", end), ("storm", storm)) if v}
    return staff_page(
        "after_action.html",
        language,
        context,
        path="/after-action",
        params=params,
        staff=staff,
        status_code=status,
    )
