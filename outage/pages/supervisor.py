"""The supervisor's dashboard: reliability indices by month, SLA compliance per request
type, open work by age, satisfaction, and the requests past their target.

Charts are SVG drawn on the server (`outage.pages.charts`): no script needed to see them,
nothing a strict Content-Security-Policy would block. Comments customers wrote are shown
through Jinja's autoescape. Staff only (`pages.supervisor`); nothing here is cached.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from outage import i18n
from outage.care import dashboard
from outage.care.sla import target_of
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

router = APIRouter(include_in_schema=False, tags=["supervisor pages"])


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
    now = datetime.now(UTC)
    summary = dashboard.care_summary(session, since=now - WINDOW, now=now)
    months = _months(request, session, now, zone)
    labels = [m.label for m in months]
    ages = [(i18n.label(language, "age", bucket.key), n) for bucket, n in summary.ages]
    mood = summary.satisfaction
    context = {
        "nav": "supervisor",
        "window_text": t["supervisor_window"].format(
            days=WINDOW.days, now=local_moment(now, t, zone)["text"]
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
                "rated": local_moment(c.rated_at, t, zone),
            }
            for c in mood.recent
        ],
        "breached": [
            {
                "ticket": r.ticket,
                "type": i18n.request_type_label(language, r.type),
                "state": i18n.request_state_label(language, r.state),
                "received": local_moment(r.received_at, t, zone),
                "due": local_moment(r.due_at, t, zone),
                "overdue": t["supervisor_hours"].format(
                    hours=f"{(now - r.due_at).total_seconds() / 3600:.0f}"
                ),
                "account": r.account,
            }
            for r in summary.breached
        ],
    }
    return staff_page(
        "supervisor.html", language, context, path="/supervisor", params={}, staff=staff
    )
