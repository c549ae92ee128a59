"""Damage assessments kept: their own time, once per key, refused when they cannot be right,
and the newest of an incident's for the planner."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.model import Skill
from outage.crews import damage
from outage.crews.damage import Assessed, DamageKeyReused, DamageRefused
from outage.crews.enums import Access
from outage.crews.models import DamageAssessment
from outage.crews.schemas import DamageIn

from .conftest import NOW, Places


def _damage(**fields: Any) -> DamageIn:
    return DamageIn.model_validate(
        {
            "assessed_at": NOW - timedelta(minutes=20),
            "crew_type_needed": "overhead_line",
            "hours_needed": 6,
            **fields,
        }
    )


def _report(session: Session, report: DamageIn, key: str | None = None, by: str = "an") -> Any:
    return damage.report_damage(
        session, report, key=key or uuid.uuid4().hex, reported_by=by, now=NOW
    )


def _stored(session: Session, key: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(DamageAssessment)
        .where(DamageAssessment.idempotency_key == key)
    )


@pytest.fixture
def incident(new_incident: Callable[..., int], places: Places) -> int:
    return new_incident(places.fuses[0])


def test_an_assessment_keeps_the_time_it_was_made(session: Session, incident: int) -> None:
    assessed = NOW - timedelta(hours=3)
    report = _damage(
        incident_id=incident,
        assessed_at=assessed,
        poles_down=2,
        spans_down=3,
        access="difficult",
        note="two poles snapped",
    )
    row, new = _report(session, report)
    assert new is True
    assert row.assessed_at == assessed and row.received_at == NOW
    assert (row.poles_down, row.spans_down, row.access) == (2, 3, Access.DIFFICULT)
    assert row.location is None and row.note == "two poles snapped"
    assert damage.incident_damage(session, incident) == [row]


def test_damage_where_no_incident_is_keeps_its_place(session: Session) -> None:
    row, _ = _report(session, _damage(location={"lat": 21.02, "lon": 105.84}))
    assert row.incident_id is None
    assert row.location is not None
    assert (row.location.lat, row.location.lon) == (21.02, 105.84)


def test_the_same_key_again_answers_the_first_row(session: Session, incident: int) -> None:
    key = uuid.uuid4().hex
    first, _ = _report(session, _damage(incident_id=incident), key)
    again, new = _report(session, _damage(incident_id=incident, hours_needed=9), key)
    assert new is False
    assert again == first
    assert _stored(session, key) == 1


def test_another_senders_key_is_refused(session: Session, incident: int) -> None:
    key = uuid.uuid4().hex
    _report(session, _damage(incident_id=incident), key, by="an")
    with pytest.raises(DamageKeyReused):
        _report(session, _damage(incident_id=incident), key, by="binh")


@pytest.mark.parametrize(
    "assessed_at", [NOW + timedelta(minutes=5), NOW - timedelta(days=8)], ids=["future", "stale"]
)
def test_a_time_off_the_clock_is_refused_and_nothing_kept(
    session: Session, incident: int, assessed_at: Any
) -> None:
    key = uuid.uuid4().hex
    with pytest.raises(DamageRefused) as refused:
        _report(session, _damage(incident_id=incident, assessed_at=assessed_at), key)
    assert refused.value.code == "event_time"
    assert _stored(session, key) == 0


def test_a_time_within_the_clock_skew_is_taken(session: Session, incident: int) -> None:
    row, _ = _report(
        session, _damage(incident_id=incident, assessed_at=NOW + timedelta(seconds=30))
    )
    assert row.assessed_at == NOW + timedelta(seconds=30)


def test_an_unknown_incident_is_refused_and_nothing_kept(session: Session) -> None:
    key = uuid.uuid4().hex
    with pytest.raises(DamageRefused) as refused:
        _report(session, _damage(incident_id=999_999), key)
    assert refused.value.code == "unknown_incident"
    assert _stored(session, key) == 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"incident_id": None}, "needs a location"),
        ({"incident_id": 1, "poles_down": -1}, "poles_down"),
        ({"incident_id": 1, "spans_down": 1001}, "spans_down"),
        ({"incident_id": 1, "transformers_damaged": 2.5}, "transformers_damaged"),
        ({"incident_id": 1, "hours_needed": 0}, "hours_needed"),
        ({"incident_id": 1, "hours_needed": 501}, "hours_needed"),
        ({"incident_id": 1, "access": "flooded"}, "access"),
        ({"incident_id": 1, "crew_type_needed": "juggling"}, "crew_type_needed"),
        ({"incident_id": 1, "note": "x" * 501}, "note"),
        ({"incident_id": 1, "assessed_at": "2026-01-01T08:00:00"}, "timezone"),
    ],
)
def test_a_value_that_cannot_be_right_is_refused(change: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        _damage(**change)


def test_the_planner_gets_each_incidents_newest_assessment(
    session: Session, new_incident: Callable[..., int], places: Places
) -> None:
    assessed, untouched = new_incident(places.fuses[0]), new_incident(places.fuses[1])
    newest = _damage(incident_id=assessed, assessed_at=NOW - timedelta(hours=1), hours_needed=3)
    older = _damage(
        incident_id=assessed,
        assessed_at=NOW - timedelta(hours=2),
        hours_needed=8,
        crew_type_needed="vegetation",
    )
    _report(session, newest)
    _report(session, older)  # arrived last, assessed first
    found = damage.newest_damage(session, [assessed, untouched])
    assert found == {assessed: Assessed(hours_needed=3, crew_type_needed=Skill.OVERHEAD_LINE)}
