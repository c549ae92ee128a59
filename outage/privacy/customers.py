"""A customer's requests about their personal data: a copy of it (access), and its erasure.

"Their" reports and service requests are those placed on them, and unplaced ones that
carry their phone or e-mail; never one placed on another customer. One placed on them but
filed by someone else (a neighbour, a passer-by) is exported without that person's
contact and words. Erasure keeps the
account number (the key of the supply contract, which the utility must keep), the
premise (a place on the network, not a person) and every ticket with its times,
placement and state, so reliability counts and SLA figures do not change.
"""

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, case, delete, false, or_, select, update
from sqlalchemy.orm import Session

from outage.care.models import ServiceRequest, ServiceRequestEvent
from outage.errors import NotFound
from outage.grid.models import Customer, Premise
from outage.intake.models import Report
from outage.media.service import erase_photos
from outage.notifications.enums import DeliveryStatus
from outage.notifications.models import Notification, NotificationPreference
from outage.privacy import ERASED
from outage.privacy.schemas import (
    CustomerExport,
    NotificationExport,
    PreferencesExport,
    PremiseExport,
    ReportExport,
    RequestEventExport,
    ServiceRequestExport,
)

Shown = TypeVar("Shown", bound=BaseModel)

UNSENT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class UnknownAccount(NotFound, LookupError):
    """No customer has this account number."""


def _customer(session: Session, account: str) -> Customer:
    found = session.scalar(
        select(Customer).where(Customer.account == account.strip()).with_for_update()
    )
    if found is None:
        raise UnknownAccount(f"no customer with account {account.strip()!r}")
    return found


def _theirs(model: type[Report] | type[ServiceRequest], customer: Customer) -> ColumnElement[bool]:
    """Placed on the customer, or unplaced and carrying their phone or e-mail."""
    clues = [
        column == value
        for column, value in ((model.phone, customer.phone), (model.email, customer.email))
        if value is not None
    ]
    return or_(
        model.customer_id == customer.id,
        and_(model.customer_id.is_(None), or_(false(), *clues)),
    )


SOMEONE_ELSES: dict[str, Any] = {
    **dict.fromkeys(
        (
            "account_given",
            "phone",
            "email",
            "zalo_user_id",
            "address_given",
            "description",
            "rating_comment",
        ),
        None,
    ),
    "details": {},
}
"""What a report or request placed on the customer keeps out of their export when someone
else filed it (a neighbour, a passer-by): that person's contact and words."""


def _own_words(row: Report | ServiceRequest, customer: Customer) -> bool:
    """Filed by the customer: it carries their phone or e-mail, or no contact but their
    account number (printed on their bill). A Zalo user is a contact no customer record
    holds: never proven theirs."""
    zalo = isinstance(row, Report) and row.zalo_user_id is not None
    if row.phone is None and row.email is None and not zalo:
        return row.account_given == customer.account
    return (row.phone is not None and row.phone == customer.phone) or (
        row.email is not None and row.email == customer.email
    )


def _exported(row: Report | ServiceRequest, customer: Customer, model: type[Shown]) -> Shown:
    shown = model.model_validate(row)
    if _own_words(row, customer):
        return shown
    return shown.model_copy(
        update={k: v for k, v in SOMEONE_ELSES.items() if k in model.model_fields}
    )


def export_customer(session: Session, account: str, *, now: datetime) -> CustomerExport:
    """Everything held about the customer with this account, and nobody else."""
    customer = _customer(session, account)
    premise = session.get_one(Premise, customer.premise_id)
    preferences = session.get(NotificationPreference, customer.id)
    reports = session.scalars(
        select(Report).where(_theirs(Report, customer)).order_by(Report.received_at, Report.id)
    )
    requests = list(
        session.scalars(
            select(ServiceRequest)
            .where(_theirs(ServiceRequest, customer))
            .order_by(ServiceRequest.received_at, ServiceRequest.id)
        )
    )
    events: dict[int, list[RequestEventExport]] = {r.id: [] for r in requests}
    for event in session.scalars(
        select(ServiceRequestEvent)
        .where(ServiceRequestEvent.request_id.in_(events))
        .order_by(ServiceRequestEvent.at, ServiceRequestEvent.id)
    ):
        events[event.request_id].append(RequestEventExport.model_validate(event))
    messages = session.scalars(
        select(Notification)
        .where(_own_message(customer))
        .order_by(Notification.created_at, Notification.id)
    )
    return CustomerExport(
        account=customer.account,
        name=customer.name,
        phone=customer.phone,
        email=customer.email,
        language=customer.language,
        critical=customer.critical,
        premise=PremiseExport.model_validate(premise),
        preferences=None if preferences is None else PreferencesExport.model_validate(preferences),
        reports=[_exported(r, customer, ReportExport) for r in reports],
        service_requests=[
            _exported(r, customer, ServiceRequestExport).model_copy(update={"events": events[r.id]})
            for r in requests
        ],
        notifications=[NotificationExport.model_validate(m) for m in messages],
        exported_at=now,
    )


def _own_message(customer: Customer) -> ColumnElement[bool]:
    """Messages to the customer's own contact: those to contacts following them are the
    followers' (their addresses are no part of the customer's data)."""
    return and_(Notification.customer_id == customer.id, Notification.subscription_id.is_(None))


def erase_customer(session: Session, account: str) -> dict[str, int]:
    """Erase the personal data of the customer with this account; rows changed per table.

    Messages not yet sent to them are skipped; their preferences go (the defaults hold).
    Running it again changes nothing more.
    """
    customer = _customer(session, account)
    reports = session.scalars(
        update(Report)
        .where(_theirs(Report, customer))
        .values(
            account_given=None,
            phone=None,
            email=None,
            zalo_user_id=None,
            address_given=None,
            description=None,
        )
        .returning(Report.id)
    ).all()
    requests = session.scalars(
        update(ServiceRequest)
        .where(_theirs(ServiceRequest, customer))
        .values(
            account_given=None,
            phone=None,
            email=None,
            address_given=None,
            description=None,
            details={},
            rating_comment=None,
        )
        .returning(ServiceRequest.id)
    ).all()
    session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id.in_(requests), ServiceRequest.rejection_reason.is_not(None))
        .values(rejection_reason=ERASED)
    )
    session.execute(
        update(ServiceRequestEvent)
        .where(ServiceRequestEvent.request_id.in_(requests))
        .values(note=None, chain_salt=None)
    )
    session.execute(
        update(Notification)
        .where(_own_message(customer), Notification.status.in_(UNSENT))
        .values(status=DeliveryStatus.SKIPPED)
    )
    messages = session.scalars(
        update(Notification)
        .where(_own_message(customer))
        .values(
            address=ERASED,
            last_error=None,
            body=case((Notification.service_request_id.is_(None), Notification.body), else_=ERASED),
            chain_salt=None,
        )
        .returning(Notification.id)
    ).all()
    preferences = session.scalars(
        delete(NotificationPreference)
        .where(NotificationPreference.customer_id == customer.id)
        .returning(NotificationPreference.customer_id)
    ).all()
    photos = erase_photos(session, select(Report.id).where(Report.id.in_(reports)))
    customer.name = ERASED
    customer.phone = customer.email = customer.critical = None
    return {
        "customers": 1,
        "reports": len(reports),
        "photos": photos,
        "service_requests": len(requests),
        "notifications": len(messages),
        "notification_preferences": len(preferences),
    }
