"""The incident lifecycle, without a database."""

from datetime import UTC, datetime, timedelta

import pytest

from outage.incidents.lifecycle import (
    ACTIVE,
    TRANSITIONS,
    IncidentStatus,
    InvalidTransition,
    can_transition,
    check_transition,
    is_momentary,
)

S = IncidentStatus
ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("current", "wanted"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_transition_passes(current: IncidentStatus, wanted: IncidentStatus) -> None:
    check_transition(current, wanted)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.PREDICTED, S.ON_SITE),
        (S.PREDICTED, S.CLOSED),
        (S.CONFIRMED, S.PREDICTED),
        (S.ON_SITE, S.DISPATCHED),
        (S.PARTIALLY_RESTORED, S.CANCELLED),
        (S.RESTORED, S.CANCELLED),
        (S.CLOSED, S.RESTORED),
        (S.CANCELLED, S.PREDICTED),
    ],
)
def test_forbidden_transition_raises(current: IncidentStatus, wanted: IncidentStatus) -> None:
    with pytest.raises(InvalidTransition):
        check_transition(current, wanted)


def test_every_status_has_its_transitions_listed() -> None:
    assert set(TRANSITIONS) == set(IncidentStatus)


@pytest.mark.parametrize("final", [S.CLOSED, S.CANCELLED])
def test_final_statuses_go_nowhere(final: IncidentStatus) -> None:
    assert not any(can_transition(final, other) for other in IncidentStatus)


def test_every_status_is_reachable_from_predicted() -> None:
    reached, frontier = {S.PREDICTED}, [S.PREDICTED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()] - reached:
            reached.add(target)
            frontier.append(target)
    assert reached == set(IncidentStatus)


def test_active_is_every_status_but_restored_closed_and_cancelled() -> None:
    assert set(IncidentStatus) - ACTIVE == {S.RESTORED, S.CLOSED, S.CANCELLED}


def test_every_active_status_may_be_restored() -> None:
    assert all(can_transition(status, S.RESTORED) for status in ACTIVE)


def test_invalid_transition_says_what_and_what_instead() -> None:
    with pytest.raises(InvalidTransition) as raised:
        check_transition(S.RESTORED, S.CANCELLED, incident_id=42)
    message = str(raised.value)
    assert "incident 42 is restored and cannot become cancelled" in message
    assert "closed, on_site" in message


def test_invalid_transition_from_a_final_status_says_it_is_final() -> None:
    with pytest.raises(InvalidTransition, match="final"):
        check_transition(S.CLOSED, S.ON_SITE)


def test_five_minutes_is_momentary() -> None:
    assert is_momentary(START, START + timedelta(minutes=5))


def test_just_over_five_minutes_is_sustained() -> None:
    assert not is_momentary(START, START + timedelta(minutes=5, seconds=1))


def test_restoration_before_the_start_is_refused() -> None:
    with pytest.raises(ValueError, match="before it started"):
        is_momentary(START, START - timedelta(seconds=1))
