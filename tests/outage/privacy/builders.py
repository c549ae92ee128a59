"""Builders of customers, reports, service requests and messages for the privacy tests."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outage.care.enums import RequestState, RequestType
from outage.care.models import ServiceRequest, ServiceRequestEvent
from outage.care.schemas import RequestIn
from outage.care.service import submit_request, transition
from outage.grid.models import Customer, Device, Premise
from outage.intake.models import Report
from outage.intake.schemas import ReportIn
from outage.intake.service import Submission, submit_report
from outage.notifications.enums import DeliveryChannel, DeliveryStatus, PlannedStatus
from outage.notifications.models import Notification, PlannedOutage
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from outage.settings import Settings


def make_customer(session: Session) -> Customer:
    """A customer of our own (unique account, phone and e-mail) at one of the premises."""
    premise_id = session.scalar(select(Premise.id).order_by(Premise.id).limit(1))
    tag = uuid.uuid4().int % 10**7
    customer = Customer(
        account=f"PRIV{tag:07d}",
        premise_id=premise_id,
        name=f"Nguyễn Văn {tag}",
        phone=f"+8491{tag:07d}",
        email=f"c{tag}@example.vn",
        language="vi",
        critical="life_support",
    )
    session.add(customer)
    session.flush()
    return customer


def file_report(session: Session, zalo_user_id: str | None = None, **clues: Any) -> str:
    """A report through the intake service (sent by that Zalo user, if given); its ticket."""
    report = ReportIn.model_validate({"description": "wires down by my gate", **clues})
    submission = Submission(report, zalo_user_id=zalo_user_id)
    return submit_report(session, submission, Settings()).ticket


def file_request(session: Session, **clues: Any) -> str:
    """A billing question through the care service; its ticket."""
    request = RequestIn.model_validate(
        {
            "type": RequestType.BILLING_QUESTION,
            "description": "my bill doubled",
            "details": {"note": "call me after 5pm"},
            **clues,
        }
    )
    return submit_request(session, request, settings=Settings()).ticket


def reject(session: Session, ticket: str) -> None:
    transition(
        session, ticket, to=RequestState.REJECTED, reason="Customer at Lê Lợi 12", actor="agent"
    )


def age_report(session: Session, ticket: str, days: float) -> None:
    session.execute(
        update(Report)
        .where(Report.ticket == ticket)
        .values(received_at=datetime.now(UTC) - timedelta(days=days))
    )


def age_request(session: Session, ticket: str, days: float) -> None:
    """Move a request, its closure and its trail `days` into the past."""
    shift = timedelta(days=days)
    found = session.scalars(select(ServiceRequest).where(ServiceRequest.ticket == ticket)).one()
    session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == found.id)
        .values(
            received_at=ServiceRequest.received_at - shift,
            due_at=ServiceRequest.due_at - shift,
            updated_at=ServiceRequest.updated_at - shift,
            closed_at=ServiceRequest.closed_at - shift,
        )
    )
    session.execute(
        update(ServiceRequestEvent)
        .where(ServiceRequestEvent.request_id == found.id)
        .values(at=ServiceRequestEvent.at - shift)
    )


def make_message(
    session: Session, customer: Customer, *, status: DeliveryStatus, days_ago: float
) -> int:
    """A planned-outage notice by SMS to the customer, `days_ago` old; its id."""
    device_id = session.scalar(select(Device.id).order_by(Device.id).limit(1))
    created = datetime.now(UTC) - timedelta(days=days_ago)
    planned = PlannedOutage(
        device_id=device_id,
        starts_at=created + timedelta(days=5),
        ends_at=created + timedelta(days=5, hours=4),
        reason="maintenance",
        status=PlannedStatus.DONE,
        customers=1,
        created_by="test",
    )
    session.add(planned)
    session.flush()
    event = NotificationEvent(
        kind=EventKind.PLANNED_NOTICE, planned_outage_id=planned.id, device_id=device_id
    )
    session.add(event)
    session.flush()
    message = Notification(
        event_id=event.id,
        customer_id=customer.id,
        planned_outage_id=planned.id,
        kind=EventKind.PLANNED_NOTICE,
        channel=DeliveryChannel.SMS,
        address=customer.phone,
        language="vi",
        subject="Planned power interruption",
        body="Power will be off for maintenance.",
        status=status,
        due_at=created,
        next_attempt_at=created,
        sent_at=created if status is DeliveryStatus.SENT else None,
        last_error=f"gateway refused {customer.phone}" if status is DeliveryStatus.DEAD else None,
        delivery_key=uuid.uuid4().hex,
        created_at=created,
    )
    session.add(message)
    session.flush()
    return message.id
