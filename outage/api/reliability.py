"""HTTP routes of reliability: the IEEE 1366 report of a period, and the after-action report
of a period or a storm, each as JSON or CSV, with its replay."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from dispatch.replay import Policy
from outage.crews.planning import PlanSettings
from outage.reliability import after_action, replay, service
from outage.reliability.schemas import (
    AfterActionOut,
    ReliabilityOut,
    ReplayOut,
    after_action_csv,
    parse_moment,
    replay_csv,
    report_csv,
)
from outage.reliability.stored import read_snapshot
from outage.web.deps import ReadSessionDep, SessionDep, SettingsDep, TopologyDep
from outage.web.downloads import csv_attachment
from outage.web.principal import require

router = APIRouter(
    prefix="/api/v1", tags=["reliability"], dependencies=[Depends(require("reliability.read"))]
)


def report(
    session: ReadSessionDep,
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
    read_snapshot(session)  # before the network is read: the report's transaction
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
    return csv_attachment(report_csv(found), name)


after_action_router = APIRouter(
    prefix="/api/v1",
    tags=["reliability"],
    dependencies=[Depends(require("reports.after_action"))],
)


StartQuery = Annotated[
    str | None,
    Query(max_length=40, description="First day (YYYY-MM-DD) or instant (ISO 8601)."),
]
EndQuery = Annotated[
    str | None,
    Query(max_length=40, description="Last day (included) or instant (excluded)."),
]
StormQuery = Annotated[
    int | None,
    Query(ge=1, le=2**31 - 1, description="A storm: from its declaration to its end (or now)."),
]


def after_action_report(
    session: SessionDep,
    config: SettingsDep,
    start: StartQuery = None,
    end: EndQuery = None,
    storm: StormQuery = None,
) -> after_action.AfterAction:
    """The report the query asks for: a period or a storm, at most 62 days; a bad period
    is a 422, an unknown storm a 404."""
    return after_action.after_action(
        session,
        start=parse_moment("start", start) if start is not None else None,
        end=parse_moment("end", end) if end is not None else None,
        storm=storm,
        zone=config.local_timezone,
    )


AfterActionDep = Annotated[after_action.AfterAction, Depends(after_action_report)]


@after_action_router.get("/after-action", response_model=AfterActionOut)
def after_action_json(found: AfterActionDep) -> AfterActionOut:
    """How a storm or a period went: customers out hour by hour, incidents opened and
    restored, crew utilisation, ETR accuracy and lapses, customers told within 15
    minutes, and the messages sent."""
    return AfterActionOut.model_validate(found)


@after_action_router.get(
    "/after-action.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def after_action_export(found: AfterActionDep) -> Response:
    """The same report as one long CSV: `section, item, measure, value`."""
    name = f"after-action-{found.start.date().isoformat()}-{found.end.date().isoformat()}.csv"
    return csv_attachment(after_action_csv(found), name)


def replay_report(
    session: SessionDep,
    config: SettingsDep,
    start: StartQuery = None,
    end: EndQuery = None,
    storm: StormQuery = None,
    crews: Annotated[
        int | None,
        Query(
            ge=0, le=replay.MAX_CREWS, description="Crews to replay with; the record's when absent."
        ),
    ] = None,
    policy: Annotated[
        Policy,
        Query(
            description="recorded: crews do the jobs they did, added crews go by the planner's "
            "rule; planner: every job goes by the planner's rule."
        ),
    ] = Policy.RECORDED,
) -> replay.Replay:
    """The replay the query asks for, of a period or a storm as the report takes them."""
    return replay.after_action_replay(
        session,
        travel=PlanSettings.from_settings(config).travel,
        start=parse_moment("start", start) if start is not None else None,
        end=parse_moment("end", end) if end is not None else None,
        storm=storm,
        crews=crews,
        policy=policy,
        zone=config.local_timezone,
    )


ReplayDep = Annotated[replay.Replay, Depends(replay_report)]


@after_action_router.get("/after-action/replay", response_model=ReplayOut)
def after_action_replay(found: ReplayDep) -> ReplayOut:
    """The period's or storm's outages replayed with other crews or the planner's rule,
    beside the recorded customer-minutes; with the recorded crews and `recorded`, the
    replay gives back the record."""
    return ReplayOut.model_validate(found)


@after_action_router.get(
    "/after-action/replay.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def after_action_replay_export(found: ReplayDep) -> Response:
    """The same replay as one long CSV: `section, item, measure, value`."""
    name = f"replay-{found.start.date().isoformat()}-{found.end.date().isoformat()}.csv"
    return csv_attachment(replay_csv(found), name)
