"""HTTP routes of reliability: the IEEE 1366 report of a period, as JSON or CSV."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from outage.reliability import service
from outage.reliability.schemas import ReliabilityOut, parse_moment, report_csv
from outage.web.deps import SessionDep, SettingsDep, TopologyDep
from outage.web.principal import require

router = APIRouter(
    prefix="/api/v1", tags=["reliability"], dependencies=[Depends(require("reliability.read"))]
)


def report(
    session: SessionDep,
    topology: TopologyDep,
    config: SettingsDep,
    start: Annotated[
        str,
        Query(max_length=40, description="First day (YYYY-MM-DD) or instant (ISO 8601)."),
    ],
    end: Annotated[
        str,
        Query(max_length=40, description="Last day (included) or instant (excluded)."),
    ],
    feeder: Annotated[
        str | None,
        Query(max_length=200, description="A feeder's name or its head breaker's asset_ref."),
    ] = None,
    region: Annotated[str | None, Query(max_length=200, description="A substation's name.")] = None,
    n: Annotated[int, Query(ge=0, le=1000, description="The n of CEMI_n.")] = (
        service.DEFAULT_CEMI_N
    ),
    celid_hours: Annotated[
        float, Query(gt=0, le=8784, description="The t of CELID-s and CELID-t, in hours.")
    ] = service.DEFAULT_CELID_HOURS,
) -> service.ReliabilityReport:
    """The report the query asks for; a bad period or an unknown feeder is a 422."""
    return service.reliability_report(
        session,
        start=parse_moment("start", start),
        end=parse_moment("end", end),
        feeder=feeder,
        region=region,
        n=n,
        celid_hours=celid_hours,
        topology=topology.get(session),
        zone=config.local_timezone,
    )


ReportDep = Annotated[service.ReliabilityReport, Depends(report)]


@router.get("/reliability", response_model=ReliabilityOut)
def reliability(found: ReportDep) -> ReliabilityOut:
    """SAIFI, SAIDI, CAIDI, CAIFI, ASAI, MAIFI_E, CEMI_n and CELID of a period, with and
    without Major Event Days (2.5 beta), planned interruptions apart."""
    return ReliabilityOut.model_validate(found)


@router.get("/reliability.csv", response_class=Response)
def reliability_csv(found: ReportDep) -> Response:
    """The same report as CSV: one row per set of indices."""
    name = f"reliability-{found.start.date().isoformat()}-{found.end.date().isoformat()}.csv"
    return Response(
        content=report_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
