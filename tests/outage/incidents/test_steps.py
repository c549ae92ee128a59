"""The steps every change to an incident is made of: the place named, times and figures
checked, status moves as the lifecycle allows, and a move of the place audited."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from outage.db import session_factory
from outage.incidents.changes import cancel, confirm, open_incident, restore, update_prediction
from outage.incidents.enums import AuditAction
from outage.incidents.errors import IncidentConflict, InvalidIncidentValue, UnknownAsset
from outage.incidents.lifecycle import InvalidTransition
from outage.incidents.queries import get_incident
from outage.incidents.steps import _load
from outage.intake.models import Report

from .conftest import Places, events_of

OpenOn = Callable[..., int]
Committed = Callable[[Callable[[Session], int]], int]


def test_an_incident_being_changed_does_not_hold_up_rows_that_refer_to_it(
    grid_database: str,
    places: Places,
    open_on: OpenOn,
    committed: Committed,
    add_report: Callable[[Session], int],
) -> None:
    incident = committed(lambda s: open_on(s, places.fuses[0]))
    report = committed(add_report)
    sessions = session_factory(grid_database)
    with sessions() as changing, sessions() as referring:
        _load(changing, incident)
        referring.execute(text("SET LOCAL lock_timeout = '2s'"))
        referring.execute(update(Report).where(Report.id == report).values(incident_id=incident))
        referring.commit()
        changing.rollback()


def test_unknown_device_is_refused(session: Session) -> None:
    with pytest.raises(UnknownAsset, match="no-such-fuse"):
        open_incident(
            session,
            device_asset_ref="no-such-fuse",
            confidence=0.5,
            customers_affected=1,
            started_at=datetime.now(UTC),
            reason="test",
        )


def test_naive_start_time_is_refused(session: Session, places: Places, open_on: OpenOn) -> None:
    with pytest.raises(InvalidIncidentValue, match="time zone"):
        open_on(session, places.fuses[0], started_at=datetime(2026, 11, 25, 10, 0))


def test_restoration_before_the_start_is_refused(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=10)
    incident_id = open_on(session, places.fuses[0], started_at=started)
    with pytest.raises(InvalidIncidentValue, match="before incident"):
        restore(session, incident_id, at=started - timedelta(minutes=1), reason="x")


def test_moving_the_device_is_audited_as_moved(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    first, second = places.fuses[0], places.fuses[2]
    incident_id = open_on(session, first)
    changed = update_prediction(
        session, incident_id, device_asset_ref=second, reason="calls on both branches"
    )
    moved = events_of(session, incident_id)[-1]
    assert changed
    assert moved.action is AuditAction.MOVED
    assert moved.details == {"from": {"device": first}, "to": {"device": second}}
    device = get_incident(session, incident_id).device
    assert device is not None
    assert device.asset_ref == second


def test_device_of_a_confirmed_incident_does_not_move(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    confirm(session, incident_id, reason="SCADA")
    with pytest.raises(IncidentConflict, match="no longer a prediction"):
        update_prediction(session, incident_id, device_asset_ref=places.fuses[2], reason="moved?")


def test_restored_incident_cannot_be_cancelled(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    restore(session, incident_id, at=datetime.now(UTC), reason="meters back")
    with pytest.raises(InvalidTransition, match="restored and cannot become cancelled"):
        cancel(session, incident_id, reason="too late")
