"""The care service on the shared database: intake, lifecycle, rating and the SLA lists."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.model import Premise
from outage.care import dashboard, service, sla
from outage.care.enums import RequestState, RequestType, SlaStanding
from outage.care.lifecycle import InvalidRequestTransition
from outage.care.models import ServiceRequest, ServiceRequestEvent
from outage.care.schemas import RequestIn
from outage.intake.enums import Channel
from outage.intake.service import IdempotencyConflict
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from outage.settings import get_settings

S = RequestState


def _submit(
    session: Session,
    premise: Premise,
    kind: RequestType = RequestType.METER_CHECK,
    *,
    now: datetime | None = None,
    key: str | None = None,
    description: str = "the meter runs fast",
) -> str:
    assert premise.customer is not None
    request = RequestIn(
        type=kind, account=premise.customer.account, description=description, channel=Channel.WEB
    )
    receipt = service.submit_request(
        session, request, settings=get_settings(), idempotency_key=key, now=now
    )
    return receipt.ticket


def _stored(session: Session, ticket: str) -> ServiceRequest:
    found = session.scalar(select(ServiceRequest).where(ServiceRequest.ticket == ticket))
    assert found is not None
    return found


def test_a_request_is_placed_on_the_customer_and_due_by_its_types_target(
    session: Session, care_customer: Premise
) -> None:
    now = datetime.now(UTC)
    ticket = _submit(session, care_customer, RequestType.ELECTRICITY_SAFETY, now=now)
    stored = _stored(session, ticket)
    assert service.is_request_ticket(ticket)
    assert stored.state is S.RECEIVED
    assert stored.due_at - stored.received_at == sla.target_of(
        get_settings().care_sla_hours, RequestType.ELECTRICITY_SAFETY
    )
    assert care_customer.customer is not None
    assert stored.account_given == care_customer.customer.account
    assert stored.customer_id is not None and stored.premise_id is not None
    [arrival] = session.scalars(
        select(ServiceRequestEvent).where(ServiceRequestEvent.request_id == stored.id)
    )
    assert (arrival.from_state, arrival.to_state) == (None, S.RECEIVED)


def test_the_configured_target_sets_the_due_time(session: Session, care_customer: Premise) -> None:
    targets = {RequestType.METER_CHECK: timedelta(hours=5)}
    settings = get_settings().model_copy(update={"care_sla_hours": targets})
    assert care_customer.customer is not None
    request = RequestIn(type=RequestType.METER_CHECK, account=care_customer.customer.account)
    receipt = service.submit_request(session, request, settings=settings)
    assert receipt.due_at - receipt.received_at == timedelta(hours=5)


def test_a_retry_with_the_same_key_gets_the_first_ticket_and_another_request_is_refused(
    session: Session, care_customer: Premise
) -> None:
    key = f"care-test-{care_customer.ref}"
    first = _submit(session, care_customer, key=key)
    assert _submit(session, care_customer, key=key) == first
    stored = session.scalars(select(ServiceRequest.id).where(ServiceRequest.idempotency_key == key))
    assert len(list(stored)) == 1
    with pytest.raises(IdempotencyConflict):
        _submit(session, care_customer, key=key, description="something else")


def test_the_lifecycle_records_who_moved_it_and_closes_it(
    session: Session, care_customer: Premise
) -> None:
    ticket = _submit(session, care_customer)
    for state in (S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER, S.IN_PROGRESS, S.DONE):
        out = service.transition(session, ticket, to=state, reason=None, actor="agent-1")
        assert out.state is state
    stored = _stored(session, ticket)
    assert stored.closed_at is not None
    trail = session.scalars(
        select(ServiceRequestEvent.to_state)
        .where(ServiceRequestEvent.request_id == stored.id)
        .order_by(ServiceRequestEvent.id)
    )
    assert list(trail) == [S.RECEIVED, S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER, S.IN_PROGRESS, S.DONE]
    with pytest.raises(InvalidRequestTransition):
        service.transition(session, ticket, to=S.IN_PROGRESS, reason=None, actor="agent-1")


def test_the_arrival_and_each_change_of_state_write_an_outbox_event_for_the_requester(
    session: Session, care_customer: Premise
) -> None:
    ticket = _submit(session, care_customer)
    service.transition(session, ticket, to=S.IN_PROGRESS, reason=None, actor="agent-1")
    service.transition(session, ticket, to=S.REJECTED, reason="a duplicate", actor="agent-1")
    with pytest.raises(InvalidRequestTransition):
        service.transition(session, ticket, to=S.DONE, reason=None, actor="agent-1")
    stored = _stored(session, ticket)
    events = list(
        session.scalars(
            select(NotificationEvent)
            .where(NotificationEvent.service_request_id == stored.id)
            .order_by(NotificationEvent.id)
        )
    )
    trail = session.scalars(
        select(ServiceRequestEvent.id)
        .where(ServiceRequestEvent.request_id == stored.id)
        .order_by(ServiceRequestEvent.id)
    )
    assert {e.kind for e in events} == {EventKind.REQUEST_UPDATE}
    assert [e.details["state"] for e in events] == ["received", "in_progress", "rejected"]
    assert [e.details["revision"] for e in events] == list(trail)
    assert {e.details["ticket"] for e in events} == {ticket}
    assert events[-1].details["reason"] == "a duplicate"
    assert {(e.device_id, e.premise_id, e.incident_id) for e in events} == {(None, None, None)}


def test_a_rejection_keeps_its_reason_for_the_customer(
    session: Session, care_customer: Premise
) -> None:
    ticket = _submit(session, care_customer, RequestType.NEW_CONNECTION)
    with pytest.raises(InvalidRequestTransition, match="reason"):
        service.transition(session, ticket, to=S.REJECTED, reason=" ", actor="agent-1")
    service.transition(session, ticket, to=S.REJECTED, reason="outside our area", actor="agent-1")
    status = service.request_status(session, ticket)
    assert status is not None
    assert (status.state, status.rejection_reason, status.can_rate) == (
        S.REJECTED,
        "outside our area",
        True,
    )


def test_a_closed_request_is_rated_once(session: Session, care_customer: Premise) -> None:
    ticket = _submit(session, care_customer)
    with pytest.raises(service.NotRatable, match="once it is done"):
        service.rate_request(session, ticket, rating=5, comment=None)
    service.transition(session, ticket, to=S.IN_PROGRESS, reason=None, actor="a")
    service.transition(session, ticket, to=S.DONE, reason=None, actor="a")
    rated = service.rate_request(session, ticket, rating=4, comment="quick, polite")
    assert (rated.rating, rated.can_rate) == (4, False)
    with pytest.raises(service.NotRatable, match="already"):
        service.rate_request(session, ticket, rating=1, comment="changed my mind")
    assert _stored(session, ticket).rating_comment == "quick, polite"


def test_an_unknown_ticket_is_not_found(session: Session) -> None:
    with pytest.raises(service.RequestNotFound):
        service.transition(session, "260101-ZZZZZZ", to=S.IN_PROGRESS, reason=None, actor="a")
    assert service.request_status(session, "260101-ZZZZZZ") is None


def test_a_request_past_its_target_is_breached_and_on_the_supervisors_list(
    session: Session, care_customer: Premise
) -> None:
    target = sla.target_of(get_settings().care_sla_hours, RequestType.METER_CHECK)
    long_ago = datetime.now(UTC) - target - timedelta(hours=3)
    late = _submit(session, care_customer, now=long_ago)
    fresh = _submit(session, care_customer)

    queue = {r.ticket: r for r in service.work_queue(session, limit=500)}
    assert queue[late].sla is SlaStanding.BREACHED
    assert queue[fresh].sla is SlaStanding.ON_TRACK
    listed = {r.ticket for r in service.breached(session, limit=500)}
    assert late in listed and fresh not in listed

    summary = dashboard.care_summary(
        session, since=datetime.now(UTC) - timedelta(days=30), now=datetime.now(UTC)
    )
    assert late in {r.ticket for r in summary.breached}
    meter = next(c for c in summary.compliance if c.type is RequestType.METER_CHECK)
    assert meter.open_breached >= 1

    # Closing it late takes it off the list; it counts as missed, not met.
    service.transition(session, late, to=S.IN_PROGRESS, reason=None, actor="a")
    service.transition(session, late, to=S.DONE, reason=None, actor="a")
    assert late not in {r.ticket for r in service.breached(session, limit=500)}
    done = service.work_queue(
        session, where=service.QueueFilter(states=frozenset({S.DONE})), limit=500
    )
    [closed] = [r for r in done if r.ticket == late]
    assert closed.sla is SlaStanding.MISSED
