"""The public service figures page, `/transparency`: reliability by month for the system
and each area, customer care by request type, and the latest daily roots of the records.

The figures are `outage.reliability.transparency`'s, the ones `GET
/api/v1/transparency/figures` and its CSV publish; the page only words and draws them
(tables, and SVG charts drawn on the server: no script). Nothing personal is on it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from outage import i18n
from outage.i18n import Language
from outage.ledger import roots
from outage.pages import charts
from outage.reliability import transparency
from outage.reliability.transparency import AreaMonth, Figures, TypeMonth
from outage.web.deps import ReadSessionDep, SettingsDep, TopologyDep
from outage.web.principal import require
from outage.web.published import FirstQuery, LastQuery, published_figures
from outage.web.rendering import render_page, request_language

ROOTS_SHOWN = 7
"""The page lists this many of the latest daily roots."""
MAX_AGE_S = 300
"""The figures are of months that are over: a browser or a proxy may keep the page."""

NO_VALUE = "\N{EN DASH}"
"""Shown for a figure that has no value (a CAIDI without interruptions)."""

router = APIRouter(
    include_in_schema=False,
    tags=["transparency pages"],
    dependencies=[Depends(require("transparency.public"))],
)


@dataclass(frozen=True)
class _Row:
    """One month of an area, worded for the page."""

    month: str
    saidi: str
    saidi_without_med: str
    saifi: str
    saifi_without_med: str
    planned_saidi: str
    planned_saifi: str
    caidi: str
    med_days: str


def _number(value: float | None, decimals: int, none: str = NO_VALUE) -> str:
    return none if value is None else f"{value:,.{decimals}f}"


def _month(month: date) -> str:
    return f"{month:%m/%Y}"


def _area_rows(months: Sequence[AreaMonth], t: Mapping[str, str]) -> list[_Row]:
    return [
        _Row(
            month=_month(m.month),
            saidi=_number(m.saidi, 1),
            saidi_without_med=_number(m.saidi_without_med, 1),
            saifi=_number(m.saifi, 3),
            saifi_without_med=_number(m.saifi_without_med, 3),
            planned_saidi=_number(m.planned_saidi, 1),
            planned_saifi=_number(m.planned_saifi, 3),
            caidi=_number(m.caidi, 0),
            med_days=", ".join(f"{day:%d/%m}" for day in m.major_event_days)
            or t["transparency_none"],
        )
        for m in months
    ]


def _percent(share: float | None) -> str:
    return NO_VALUE if share is None else f"{share:.0%}"


def _care_row(label: str, rows: Sequence[TypeMonth], *, median: float | None) -> dict[str, Any]:
    closed = sum(r.closed for r in rows)
    met = sum(r.closed_within_sla for r in rows)
    ratings = sum(r.ratings for r in rows)
    rated = sum(r.ratings * r.mean_rating for r in rows if r.mean_rating is not None)
    return {
        "label": label,
        "received": f"{sum(r.received for r in rows):,}",
        "closed": f"{closed:,}",
        "within": f"{met:,} ({_percent(met / closed if closed else None)})",
        "median": _number(median, 1),
        "ratings": f"{ratings:,}",
        "mean": _number(rated / ratings if ratings else None, 1),
    }


def _care(figures: Figures, language: Language, t: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each request type: its totals over the months, and each month's row."""
    by_type: dict[str, list[TypeMonth]] = {}
    for row in figures.care:
        by_type.setdefault(row.type, []).append(row)
    return [
        {
            "type": type_,
            "total": _care_row(i18n.request_type_label(language, rows[0].type), rows, median=None),
            "months": [
                _care_row(_month(r.month), [r], median=r.median_hours_to_close) for r in rows
            ],
        }
        for type_, rows in by_type.items()
    ]


def _roots(session: Session) -> list[dict[str, str | bool]]:
    return [
        {"day": root.day.isoformat(), "root": root.root, "signed": root.signature is not None}
        for root in roots.published(session, limit=ROOTS_SHOWN)
    ]


def _charts(figures: Figures, t: Mapping[str, str]) -> dict[str, charts.Chart] | None:
    if not figures.system:
        return None
    labels = [f"{m.month:%m/%y}" for m in figures.system]
    return {
        "saidi": charts.bar_chart(
            labels,
            [[m.saidi for m in figures.system], [m.saidi_without_med for m in figures.system]],
            decimals=0,
            value_decimals=1,
        ),
        "saifi": charts.line_chart(
            labels, [[m.saifi for m in figures.system]], decimals=2, value_decimals=3
        ),
    }


@router.get("/transparency", response_class=HTMLResponse)
def transparency_page(
    request: Request,
    session: ReadSessionDep,
    topology: TopologyDep,
    config: SettingsDep,
    first: FirstQuery = None,
    last: LastQuery = None,
    lang: str | None = None,
) -> HTMLResponse:
    """The published figures of the months asked for (by default the last 12 complete
    ones); months that cannot be published are a 422 page saying why."""
    language = request_language(request, lang)
    t = i18n.strings(language)
    params = {"first": first or "", "last": last or ""}
    try:
        figures = published_figures(request, session, topology, config, first, last)
    except transparency.InvalidMonths:
        return render_page(
            "transparency.html",
            language,
            {"refused": True, "figures": None, "roots": _roots(session), **params},
            path="/transparency",
            params=params,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    range_query = urlencode(
        {"first": f"{figures.first_month:%Y-%m}", "last": f"{figures.last_month:%Y-%m}"}
    )
    areas: dict[str, list[AreaMonth]] = {}
    for row in figures.areas:
        areas.setdefault(row.area or "", []).append(row)
    context = {
        "refused": False,
        "figures": figures,
        "first": f"{figures.first_month:%Y-%m}",
        "last": f"{figures.last_month:%Y-%m}",
        "period": t["transparency_period"].format(
            count=transparency.months_between(figures.first_month, figures.last_month),
            first=_month(figures.first_month),
            last=_month(figures.last_month),
        ),
        "system": _area_rows(figures.system, t),
        "areas": [
            {
                "name": name,
                "customers": t["transparency_customers"].format(
                    count=f"{months[-1].customers_served:,}"
                ),
                "rows": _area_rows(months, t),
            }
            for name, months in areas.items()
        ],
        "charts": _charts(figures, t),
        "care": _care(figures, language, t),
        "roots": _roots(session),
        "json_url": f"/api/v1/transparency/figures?{range_query}",
        "csv_reliability_url": f"/api/v1/transparency/figures.csv?{range_query}&table=reliability",
        "csv_care_url": f"/api/v1/transparency/figures.csv?{range_query}&table=care",
    }
    return render_page(
        "transparency.html",
        language,
        context,
        path="/transparency",
        params=params,
        headers={"Cache-Control": f"public, max-age={MAX_AGE_S}"},
    )
