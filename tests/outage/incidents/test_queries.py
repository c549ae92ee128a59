"""Reading incidents: the active ones the prediction engine matches against."""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from outage.incidents.changes import open_incident, restore
from outage.incidents.queries import active_incidents

from .conftest import Places

OpenOn = Callable[..., int]


def test_active_incidents_leave_out_restored_ones(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    active = open_on(session, places.fuses[0])
    restored = open_on(session, places.fuses[2])
    restore(session, restored, at=datetime.now(UTC), reason="meters back")
    ids = {i.id for i in active_incidents(session)}
    assert active in ids
    assert restored not in ids


def test_active_single_service_incident_names_the_customers_account(
    session: Session, places: Places
) -> None:
    account = places.accounts[5]
    incident_id = open_incident(
        session,
        account=account,
        confidence=0.5,
        customers_affected=1,
        started_at=datetime.now(UTC),
        reason="lone call",
    )
    [found] = [i for i in active_incidents(session) if i.id == incident_id]
    assert found.accounts == (account,)
    assert found.device is None
