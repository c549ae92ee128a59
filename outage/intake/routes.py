"""HTTP routes of intake: customer reports, report status, smart-meter and SCADA events."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status

from outage.api import SessionDep
from outage.intake import service
from outage.intake.limits import IntakeLimits
from outage.intake.schemas import (
    MeterEventsIn,
    MeterEventsOut,
    PlacementIn,
    QueuedReportOut,
    ReceiptOut,
    ReportIn,
    ReportStatusOut,
    ScadaEventIn,
    ScadaEventOut,
)
from outage.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["intake"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="Retry-safe key"),
]


def settings(request: Request) -> Settings:
    configured: Settings = request.app.state.settings
    return configured


def intake_limits(request: Request) -> IntakeLimits:
    limits: IntakeLimits = request.app.state.intake_limits
    return limits


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/reports", status_code=status.HTTP_201_CREATED, response_model=ReceiptOut)
def submit_report(
    report: ReportIn,
    request: Request,
    session: SessionDep,
    config: Annotated[Settings, Depends(settings)],
    limits: Annotated[IntakeLimits, Depends(intake_limits)],
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    limits.check(ip=client_ip(request), phone=report.phone)
    return service.submit_report(
        session, service.Submission(report, idempotency_key=idempotency_key), config
    )


@router.get("/reports", response_model=list[QueuedReportOut])
def review_queue(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[QueuedReportOut]:
    """Reports waiting for an agent to place them, oldest first."""
    return service.review_queue(session, limit=limit, offset=offset)


@router.post("/reports/{ticket}/placement", response_model=ReceiptOut)
def place_report(
    ticket: str,
    placement: PlacementIn,
    session: SessionDep,
    config: Annotated[Settings, Depends(settings)],
) -> ReceiptOut:
    """An agent places a queued report on a premise."""
    return service.place_report(session, ticket, placement.premise, config)


@router.get("/reports/{ticket}", response_model=ReportStatusOut)
def report_status(ticket: str, session: SessionDep) -> ReportStatusOut:
    found = service.report_status(session, ticket)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no report with ticket {ticket!r}")
    return found


@router.post("/ami/events", response_model=MeterEventsOut)
def meter_events(batch: MeterEventsIn, session: SessionDep) -> MeterEventsOut:
    return service.record_meter_events(session, batch)


@router.post("/scada/events", response_model=ScadaEventOut)
def scada_event(event: ScadaEventIn, session: SessionDep) -> ScadaEventOut:
    return service.record_scada_event(session, event)
