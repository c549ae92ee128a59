"""The supervisor's dashboard: the outage now (a live panel the page refreshes from
`/supervisor/live.json`), reliability indices by month, SLA compliance per request type,
open work by age, satisfaction, and the requests past their target.

Charts are SVG drawn on the server (`outage.pages.charts`): no script needed to see them,
nothing a strict Content-Security-Policy would block. Comments customers wrote are shown
through Jinja's autoescape. Staff only (`pages.supervisor`); nothing here is cached.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from outage import clock, i18n
from outage.care import dashboard, supervision
from outage.care.schemas import TeamViewOut
from outage.care.sla import target_of
from outage.crews.live import CrewLoad, crew_load
from outage.i18n import Language
from outage.incidents import live as incidents_live
from outage.notifications.live import MessageBacklog, message_backlog
from outage.pages import charts
from outage.pages.staff import staff_page
from outage.reliability import service as reliability
from outage.settings import Settings
from outage.web.deps import SessionDep
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import local_moment, request_language

WINDOW = timedelta(days=30)
"""SLA compliance and satisfaction are over this window, ending now."""
MONTHS = 12
"""Reliability indices are shown for this many months, the current one last."""

LIVE_HOURS = 12
"""The live panel's chart of customers out covers this many hours (from the half hour
before), ending now; restoration times missed are counted over the same span."""
LIVE_STEP = timedelta(minutes=30)
"""One point of that chart every this long (on the half hour), and one at now."""
LIVE_REFRESH_S = 30
"""The page asks for the live panel's figures again this often."""

router = APIRouter(include_in_schema=False, tags=["supervisor pages"])


@dataclass(frozen=True)
class _StatusRow:
    status: str
    label: str
    incidents: int


@dataclass(frozen=True)
class LivePanel:
    """What the live panel shows; the page draws it and its script refreshes it."""

    updated: str
    customers_out: int
    incidents: tuple[_StatusRow, ...]
    crews: CrewLoad
    messages: MessageBacklog
    etrs_lapsed: int
    etrs_hint: str
    chart_title: str
    chart: charts.Chart


def _half_hour(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute // 30 * 30, second=0, microsecond=0)


def live_panel(session: Session, language: Language, zone: tzinfo, now: datetime) -> LivePanel:
    """The storm as it stands at `now`, worded in `language`."""
    t = i18n.strings(language)
    since = _half_hour(now - timedelta(hours=LIVE_HOURS))
    series = incidents_live.customers_out_series(session, since=since, now=now, step=LIVE_STEP)
    lapsed = incidents_live.lapsed_etrs(session, since=since, now=now)
    local = [p.at.astimezone(zone) for p in series]
    labels = [f"{at:%H:%M}" if at.minute == 0 else "" for at in local[:-1]] + [""]
    start = f"{local[0]:%H:%M}"
    return LivePanel(
        updated=t["supervisor_live_updated"].format(
            time=local_moment(now, language, zone, now)["text"], seconds=LIVE_REFRESH_S
        ),
        customers_out=incidents_live.customers_out(session),
        incidents=tuple(
            _StatusRow(
                row.status, i18n.label(language, "incident_status", row.status), row.incidents
            )
            for row in incidents_live.incidents_by_status(session)
        ),
        crews=crew_load(session, now=now),
        messages=message_backlog(session, now=now),
        etrs_lapsed=lapsed.incidents,
        etrs_hint=t["supervisor_etrs_lapsed_hint"].format(start=start, still=lapsed.still_out),
        chart_title=t["supervisor_customers_out_chart"].format(
            start=start, minutes=int(LIVE_STEP / timedelta(minutes=1))
        ),
        chart=charts.line_chart(labels, [[p.customers for p in series]], counts=True),
    )


@router.get("/supervisor/live.json", dependencies=[Depends(require("supervisor.live"))])
def supervisor_live(request: Request, session: SessionDep, lang: str | None = None) -> JSONResponse:
    """The live panel's figures, for the page's script to refresh it without a reload."""
    zone = request.app.state.settings.local_timezone
    panel = live_panel(session, request_language(request, lang), zone, clock.now())
    return JSONResponse(jsonable_encoder(panel))


@dataclass(frozen=True)
class _Month:
    label: str
    saidi: float
    saidi_without_med: float
    saifi: float
    major_event_days: int


def _first_month(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _months(request: Request, session: Session, now: datetime, zone: tzinfo) -> list[_Month]:
    """The indices of the last months; none when the network has no customers yet."""
    today = now.astimezone(zone).date()
    try:
        found = reliability.monthly_indices(
            session,
            _first_month(today, MONTHS),
            today,
            topology=request.app.state.topology.get(session),
            as_of=now,
            zone=zone,
        )
    except (reliability.UnknownScope, reliability.InvalidPeriod):
        return []
    return [
        _Month(
            label=f"{m.month:%m/%y}",
            saidi=m.with_major_events.saidi,
            saidi_without_med=m.without_major_events.saidi,
            saifi=m.with_major_events.saifi,
            major_event_days=m.major_event_days,
        )
        for m in found
    ]


def _reliability_notes(months: Sequence[_Month], t: Mapping[str, str]) -> dict[str, str]:
    """The period the reliability charts draw, and whether Major Event Days set the two
    SAIDI lines apart (said outright when they did not, so equal lines puzzle nobody)."""
    days = sum(m.major_event_days for m in months)
    return {
        "period": t["supervisor_months_period"].format(
            count=len(months), first=months[0].label, last=months[-1].label
        ),
        "med": (
            t["supervisor_med_some"].format(days=days)
            if days
            else t["supervisor_med_none"].format(count=len(months))
        ),
    }


def _teams(
    views: Sequence[TeamViewOut], language: Language, zone: tzinfo, now: datetime
) -> list[dict[str, object]]:
    """Every care team's late work and poor ratings, for the page (customer words are
    escaped by the template)."""
    t = i18n.strings(language)
    return [
        {
            "name": view.team,
            "supervisor": (
                t["supervisor_team_supervisor"].format(name=view.supervisor)
                if view.supervisor
                else t["supervisor_team_no_supervisor"]
            ),
            "overdue_title": t["supervisor_team_overdue"].format(count=view.overdue_count),
            "low_title": t["supervisor_team_low"].format(count=len(view.low_ratings)),
            "overdue": [
                {
                    "ticket": r.ticket,
                    "type": i18n.request_type_label(language, r.type),
                    "state": i18n.request_state_label(language, r.state),
                    "due": local_moment(r.due_at, language, zone, now),
                    "owner": r.agent or t["supervisor_team_whole"],
                    "escalated": r.escalated,
                }
                for r in view.overdue
            ],
            "low": [
                {
                    "ticket": r.ticket,
                    "type": i18n.request_type_label(language, r.type),
                    "rating": r.rating,
                    "comment": r.comment,
                    "rated": local_moment(r.rated_at, language, zone, now),
                }
                for r in view.low_ratings
            ],
        }
        for view in views
    ]


def _percent(share: float | None, t: Mapping[str, str]) -> str:
    return t["supervisor_not_applicable"] if share is None else f"{share:.0%}"


@router.get(
    "/supervisor",
    response_class=HTMLResponse,
    dependencies=[Depends(require("pages.supervisor", page=True))],
)
def supervisor_dashboard(
    request: Request, session: SessionDep, staff: PrincipalDep, lang: str | None = None
) -> HTMLResponse:
    """Where customer care and the network stand, for the shift supervisor."""
    language = request_language(request, lang)
    t = i18n.strings(language)
    config: Settings = request.app.state.settings
    zone = config.local_timezone
    now = clock.now()
    summary = dashboard.care_summary(session, since=now - WINDOW, now=now)
    teams = supervision.team_views(session, since=now - WINDOW, now=now)
    months = _months(request, session, now, zone)
    labels = [m.label for m in months]
    ages = [(i18n.label(language, "age", bucket.key), n) for bucket, n in summary.ages]
    mood = summary.satisfaction
    context = {
        "live": live_panel(session, language, zone, now),
        "live_refresh_s": LIVE_REFRESH_S,
        "window_text": t["supervisor_window"].format(
            days=WINDOW.days, now=local_moment(now, language, zone, now)["text"]
        ),
        "reliability": _reliability_notes(months, t) if months else None,
        "saidi_chart": (
            charts.bar_chart(
                labels,
                [[m.saidi for m in months], [m.saidi_without_med for m in months]],
                decimals=0,
                value_decimals=1,
            )
            if months
            else None
        ),
        "saifi_chart": (
            charts.line_chart(labels, [[m.saifi for m in months]], decimals=2, value_decimals=3)
            if months
            else None
        ),
        "compliance": [
            {
                "type": i18n.request_type_label(language, row.type),
                "target": f"{target_of(config.care_sla_hours, row.type) / timedelta(hours=1):g}",
                "closed": row.closed,
                "met": row.met,
                "share": row.share,
                "share_text": _percent(row.share, t),
                "open": row.open,
                "open_breached": row.open_breached,
            }
            for row in summary.compliance
        ],
        "ages_chart": charts.bar_chart(
            [label for label, _ in ages], [[n for _, n in ages]], counts=True
        ),
        "satisfaction": mood,
        "mean_text": (
            t["supervisor_mean"].format(mean=f"{mood.mean:.1f}", count=mood.count)
            if mood.mean is not None
            else t["supervisor_no_ratings"]
        ),
        "ratings_chart": charts.bar_chart(
            [str(score) for score in range(1, 6)], [list(mood.distribution)], counts=True
        ),
        "comments": [
            {
                "ticket": c.ticket,
                "type": i18n.request_type_label(language, c.type),
                "rating": c.rating,
                "comment": c.comment,
                "rated": local_moment(c.rated_at, language, zone, now),
            }
            for c in mood.recent
        ],
        "breached": [
            {
                "ticket": r.ticket,
                "type": i18n.request_type_label(language, r.type),
                "state": i18n.request_state_label(language, r.state),
                "received": local_moment(r.received_at, language, zone, now),
                "due": local_moment(r.due_at, language, zone, now),
                "overdue": t["supervisor_hours"].format(
                    hours=f"{(now - r.due_at).total_seconds() / 3600:.0f}"
                ),
                "account": r.account,
            }
            for r in summary.breached
        ],
        "teams": _teams(teams, language, zone, now),
    }
    return staff_page(
        "supervisor.html", language, context, path="/supervisor", params={}, staff=staff
    )
