"""Connection checks (rolled back, on the shared database): a customer whose reported
outage the network did not show gets one check of their premise, once."""

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.model import Premise
from outage.care import checks
from outage.care.checks import open_connection_checks
from outage.care.enums import RequestType
from outage.care.models import ServiceRequest
from outage.errors import Invalid
from outage.grid.models import Customer
from outage.incidents.changes import cancel, open_incident
from outage.incidents.enums import IncidentKind
from outage.incidents.evidence import EvidenceRef
from outage.intake.enums import Channel, Hazard, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.settings import get_settings
from tests.conftest import rolled_back


@pytest.fixture
def session(grid_database: str) -> Iterator[Session]:
    with rolled_back(grid_database) as db:
        yield db


def _cancelled_report(
    session: Session, account: str, kind: IncidentKind = IncidentKind.OUTAGE
) -> int:
    """A customer's report whose incident the engine cancelled; returns the customer's id."""
    customer_id = session.scalars(select(Customer.id).where(Customer.account == account)).one()
    report = Report(
        ticket=f"T-{secrets.token_hex(5).upper()}",
        channel=Channel.SMS,
        status=ReportStatus.RECEIVED,
        match_method=MatchMethod.ACCOUNT,
        customer_id=customer_id,
        candidates=[],
    )
    session.add(report)
    session.flush()
    incident = open_incident(
        session,
        kind=kind,
        hazard=Hazard.WIRES_DOWN if kind is IncidentKind.HAZARD else None,
        account=account,
        confidence=0.5,
        customers_affected=1,
        started_at=datetime.now(UTC) - timedelta(minutes=30),
        reason="one customer's report",
        evidence=[EvidenceRef.report(report.id)],
    )
    cancel(session, incident, reason="nothing wrong on the network")
    return customer_id


def test_a_cancelled_incident_opens_one_check_of_the_customers_premise(
    session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    customer_id = _cancelled_report(session, care_customer.customer.account)
    settings = get_settings()
    assert open_connection_checks(session, settings) == 1
    assert open_connection_checks(session, settings) == 0
    [check] = session.scalars(
        select(ServiceRequest).where(
            ServiceRequest.request_type == RequestType.CONNECTION_CHECK,
            ServiceRequest.customer_id == customer_id,
        )
    )
    assert check.premise_id is not None


def test_a_cancelled_hazard_opens_no_check(session: Session, care_customer: Premise) -> None:
    assert care_customer.customer is not None
    _cancelled_report(session, care_customer.customer.account, IncidentKind.HAZARD)
    assert open_connection_checks(session, get_settings()) == 0


@pytest.fixture
def another_care_customer(
    care_customers: list[Premise], _next_care_customer: Iterator[int]
) -> Premise:
    return care_customers[next(_next_care_customer)]


def test_a_check_that_fails_does_not_keep_the_others_from_opening(
    session: Session,
    care_customer: Premise,
    another_care_customer: Premise,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert care_customer.customer is not None and another_care_customer.customer is not None
    failing = care_customer.customer.account
    other = another_care_customer.customer.account
    _cancelled_report(session, failing)
    _cancelled_report(session, other)
    submit = checks.submit_request

    def fail_for_one(db: Session, request: Any, **values: Any) -> Any:
        if request.account == failing:
            raise Invalid("no premise to check")
        return submit(db, request, **values)

    monkeypatch.setattr(checks, "submit_request", fail_for_one)
    assert open_connection_checks(session, get_settings()) == 1
