"""HTTP routes of intake: customer reports, report status, smart-meter and SCADA events."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from sqlalchemy.orm import Session

from outage import clock
from outage.auth.enums import PrincipalKind
from outage.fields import PhoneLast4
from outage.incidents.errors import IncidentNotFound
from outage.incidents.models import Incident
from outage.incidents.progress import report_progress
from outage.intake import meter_batches, pings, service
from outage.intake.enums import SwitchState
from outage.intake.headend import NoHeadEnd, configured_limits
from outage.intake.owners import Verdict, verify_owner
from outage.intake.schemas import (
    MeterEventsIn,
    MeterEventsOut,
    PingAnswersIn,
    PingAnswersOut,
    PingBatchOut,
    PingOut,
    PingsIn,
    PlacementIn,
    QueuedReportOut,
    ReceiptOut,
    ReportIn,
    ReportStatusOut,
    ScadaEventIn,
    ScadaEventOut,
)
from outage.orders import execution
from outage.prediction.hazards import open_reported_hazard
from outage.web.deps import (
    MAX_OFFSET,
    LimitsDep,
    SessionDep,
    SettingsDep,
    TopologyDep,
    client_ip,
    in_transaction,
)
from outage.web.principal import PrincipalDep, require

router = APIRouter(prefix="/api/v1", tags=["intake"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="Retry-safe key"),
]


@router.post(
    "/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReceiptOut,
    dependencies=[Depends(require("reports.submit"))],
)
async def submit_report(
    report: ReportIn,
    request: Request,
    principal: PrincipalDep,
    config: SettingsDep,
    limits: LimitsDep,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """A report from a customer, an app, or an agent on a caller's behalf.

    Rate limits per client address and phone apply to all but signed-in staff. An
    anonymous caller's receipt names no one's premise, transformer, feeder or earlier ticket.
    """
    if not principal.is_staff:
        limits.check(ip=client_ip(request), phone=report.phone)
    submission = service.Submission(report, idempotency_key=idempotency_key)

    def file(session: Session) -> ReceiptOut:
        receipt = service.submit_report(session, submission, config)
        if report.hazard is not None:
            open_reported_hazard(session, receipt.ticket)
        return receipt

    receipt = await in_transaction(request, file)
    return receipt.for_anyone() if principal.kind is PrincipalKind.ANONYMOUS else receipt


@router.get(
    "/reports",
    response_model=list[QueuedReportOut],
    dependencies=[Depends(require("reports.queue"))],
)
def review_queue(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[QueuedReportOut]:
    """Reports waiting for an agent to place them, oldest first."""
    return service.review_queue(session, limit=limit, offset=offset)


@router.post(
    "/reports/{ticket}/placement",
    response_model=ReceiptOut,
    dependencies=[Depends(require("reports.place"))],
)
def place_report(
    ticket: str,
    placement: PlacementIn,
    session: SessionDep,
    config: SettingsDep,
) -> ReceiptOut:
    """An agent places a queued report on a premise."""
    return service.place_report(session, ticket, placement.premise, config)


@router.get(
    "/reports/{ticket}",
    response_model=ReportStatusOut,
    dependencies=[Depends(require("reports.status"))],
    responses={403: {"description": "phone_last4 is missing or does not match"}},
)
def report_status(
    ticket: Annotated[str, Path(max_length=32)],
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    limits: LimitsDep,
    phone_last4: Annotated[
        PhoneLast4 | None,
        Query(
            description="Last four digits of the phone given with the report, or registered "
            "to the customer's account; staff who work the review queue need none.",
        ),
    ] = None,
) -> ReportStatusOut:
    """Where a report stands, for the customer who made it, with its outage's phase,
    cause, ETR (and range) and the time the customer's supply came back."""
    wanted = ticket.strip().upper()
    found = service.report_status(session, wanted)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no report with ticket {ticket!r}")
    found = found.with_progress(report_progress(session, wanted))
    if not principal.may("reports.queue"):
        refuse_unproven(
            verify_owner(
                session,
                limits,
                wanted,
                phone_last4,
                service.status_phones,
                client=client_ip(request),
            ),
            kind="report",
            no_phone="this report has no phone number to check; its status page is "
            f"/status/{wanted}",
        )
        return found.for_customer()
    return found


def refuse_unproven(verdict: Verdict, *, kind: str, no_phone: str) -> None:
    """403 with why, unless the caller proved the ticket (of a `kind`) is theirs."""
    if verdict is Verdict.NO_PHONE:
        raise HTTPException(status_code=403, detail=no_phone)
    if verdict is Verdict.MISSING:
        raise HTTPException(
            status_code=403,
            detail="give phone_last4: the last four digits of the phone given with the "
            f"{kind} or registered to the account",
        )
    if verdict is Verdict.MISMATCH:
        raise HTTPException(status_code=403, detail="phone_last4 does not match")


BULK_PATHS = frozenset({f"{router.prefix}/ami/events", f"{router.prefix}/ami/pings/answers"})
"""Routes whose bodies are a head-end's batch: larger than any other request's."""


@router.post(
    "/ami/events", response_model=MeterEventsOut, dependencies=[Depends(require("ami.events"))]
)
def meter_events(batch: MeterEventsIn, session: SessionDep, config: SettingsDep) -> MeterEventsOut:
    """Store the batch's good events; the answer names the rest, each with why (200 even
    when none was good: a head-end retrying the batch would only be refused again)."""
    return meter_batches.record_meter_events(session, batch, max_age=config.event_max_age_hours)


@router.post(
    "/ami/pings",
    response_model=PingBatchOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require("meters.ping"))],
)
def ask_meters(asked: PingsIn, session: SessionDep, config: SettingsDep) -> PingBatchOut:
    """Ask the meters whether they have power: the pings are sent to the head-end within
    seconds, and their answers read with GET (409 when no head-end is configured)."""
    limits = configured_limits(config)
    if limits is None:
        raise NoHeadEnd("no AMI head-end is configured (OUTAGE_AMI_HEADEND_URL)")
    if asked.incident_id is not None and session.get(Incident, asked.incident_id) is None:
        raise IncidentNotFound(f"no incident {asked.incident_id}")
    batch = pings.request_pings(
        session,
        limits,
        asked.meter_ids,
        asked.reason,
        incident_id=asked.incident_id,
        now=clock.now(),
    )
    return PingBatchOut(**asdict(batch))


@router.get(
    "/ami/pings", response_model=list[PingOut], dependencies=[Depends(require("meters.ping"))]
)
def read_pings(
    session: SessionDep,
    request_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    incident_id: Annotated[int | None, Query(ge=1)] = None,
) -> list[PingOut]:
    """The pings of a request or of an incident (one of them is needed), latest first."""
    if request_id is None and incident_id is None:
        raise HTTPException(status_code=422, detail="give request_id or incident_id")
    found = pings.pings_of(session, request_id=request_id, incident_id=incident_id)
    return [PingOut.model_validate(ping) for ping in found]


@router.post(
    "/ami/pings/answers",
    response_model=PingAnswersOut,
    dependencies=[Depends(require("ami.pings"))],
)
def ping_answers(batch: PingAnswersIn, session: SessionDep, config: SettingsDep) -> PingAnswersOut:
    """Record the head-end's answers to our pings; the answer names those not recorded
    (200 even when none was: a head-end retrying the batch would only be refused again)."""
    return pings.record_answers(session, batch, now=clock.now(), max_age=config.event_max_age_hours)


@router.post(
    "/scada/events", response_model=ScadaEventOut, dependencies=[Depends(require("scada.events"))]
)
def scada_event(
    event: ScadaEventIn, session: SessionDep, config: SettingsDep, live: TopologyDep
) -> ScadaEventOut:
    """Apply a SCADA event to the live network and keep its fault indication. A switching
    order's step commanded so is done first, as the order's operation, which the event
    then confirms: the device is the order's (an opened breaker is switching, not a trip)."""
    if event.state is not None:
        execution.confirm_by_scada(
            session,
            event.asset_ref,
            is_open=event.state is SwitchState.OPEN,
            at=event.occurred_at,
            late_within=config.scada_late_confirmation_minutes,
            networks=lambda: execution.Networks(live.get(session), live.energized(session)),
        )
    return service.record_scada_event(session, event, max_age=config.event_max_age_hours)
