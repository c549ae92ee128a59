"""Public routes of transparency: the published service figures (`GET
/transparency/figures`, as JSON, and as CSV open data) and the daily roots of the
tamper-evident records (`GET /transparency/roots`, `docs/tamper-evidence.md`), for anyone
to keep a copy of."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from outage.ledger import roots
from outage.ledger.schemas import RootOut
from outage.reliability import transparency
from outage.reliability.schemas import FiguresOut, figures_csv
from outage.web.deps import SessionDep
from outage.web.downloads import csv_attachment
from outage.web.principal import require
from outage.web.published import published_figures

router = APIRouter(prefix="/api/v1", tags=["transparency"])

PUBLIC = [Depends(require("transparency.public"))]

FiguresDep = Annotated[transparency.Figures, Depends(published_figures)]


class Table(StrEnum):
    RELIABILITY = "reliability"
    CARE = "care"


@router.get("/transparency/figures", response_model=FiguresOut, dependencies=PUBLIC)
def figures(found: FiguresDep) -> FiguresOut:
    """Per month, for the system and each region: SAIDI, SAIFI (with and without Major
    Event Days, planned apart), CAIDI and the Major Event Days; per request type: requests
    received, closed, closed within their target, the median hours to close, ratings."""
    return FiguresOut.of(found)


@router.get(
    "/transparency/figures.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    dependencies=PUBLIC,
)
def figures_export(
    found: FiguresDep,
    table: Annotated[
        Table,
        Query(description="reliability: a row per area and month; care: per type and month."),
    ] = Table.RELIABILITY,
) -> Response:
    """The same figures as open data, one CSV per table."""
    name = f"{table}-{found.first_month:%Y-%m}-{found.last_month:%Y-%m}.csv"
    return csv_attachment(figures_csv(found, table), name)


@router.get("/transparency/roots", response_model=list[RootOut], dependencies=PUBLIC)
def daily_roots(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=366)] = 31,
    before: Annotated[date | None, Query(description="Only roots of days before this")] = None,
) -> list[RootOut]:
    """The daily roots, latest first: a copy kept outside the utility shows any later
    rewrite of the records."""
    return [
        RootOut.model_validate(root, from_attributes=True)
        for root in roots.published(session, limit=limit, before=before)
    ]
