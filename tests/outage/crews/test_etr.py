"""Repair durations from the restored incidents: enough of them replace the defaults."""

from collections.abc import Callable
from datetime import UTC, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch.etr import DEFAULT_QUANTILES, DEFAULT_REPAIR_MIN, MIN_SAMPLES, Basis, RepairHistory
from outage.crews.etr import etr_model
from outage.db import session_factory, session_scope
from outage.incidents.actions import apply_action
from outage.incidents.enums import Action
from outage.incidents.schemas import IncidentPatch
from tests.conftest import make_crew

from .conftest import NOW, Places


def _history(session: Session) -> RepairHistory:
    return etr_model(session, now=NOW, quantiles=DEFAULT_QUANTILES, zone=UTC).history


def _repaired(
    database_url: str, new_incident: Callable[..., int], fuse: str, minutes: int, cause: str
) -> None:
    """An outage on `fuse` whose crew was on site `minutes` before power came back."""
    incident = new_incident(fuse)
    restored = NOW - timedelta(minutes=1)
    with session_scope(session_factory(database_url)) as session:
        for patch in (
            IncidentPatch(action=Action.ASSIGN, crew_id=make_crew(session)),
            IncidentPatch(action=Action.ON_SITE),
            IncidentPatch(action=Action.SET_CAUSE, cause=cause),
            IncidentPatch(action=Action.RESTORED, at=restored),
        ):
            apply_action(session, incident, patch, "test")
        session.execute(
            text(
                "UPDATE incident_events SET at = :at WHERE incident_id = :id AND action = 'on_site'"
            ),
            {"at": restored - timedelta(minutes=minutes), "id": incident},
        )
        session.execute(
            text("UPDATE incidents SET started_at = :at WHERE id = :id"),
            {"at": restored - timedelta(minutes=minutes + 30), "id": incident},
        )


def test_history_replaces_the_default_once_there_are_enough_repairs(
    crews_database: str, places: Places, new_incident: Callable[..., int]
) -> None:
    with session_scope(session_factory(crews_database)) as session:
        before = _history(session).estimate("fuse", "possum on the fuse")
    assert before.basis is Basis.DEFAULT
    assert before.expected_s == pytest.approx(DEFAULT_REPAIR_MIN["fuse"][0] * 60)
    for n in range(MIN_SAMPLES):
        _repaired(crews_database, new_incident, places.fuses[0], 20 + n, "possum on the fuse")
    with session_scope(session_factory(crews_database)) as session:
        after = _history(session).estimate("fuse", "possum on the fuse")
    assert after.basis is Basis.KIND_AND_CAUSE
    assert after.samples == MIN_SAMPLES
    assert 20 * 60 < after.expected_s < after.spread.latest_s <= (20 + MIN_SAMPLES) * 60
