"""The request lifecycle as data: allowed moves, final states, rejections need a reason."""

import pytest

from outage.care.enums import RequestState
from outage.care.lifecycle import (
    CLOSED,
    OPEN,
    TRANSITIONS,
    InvalidRequestTransition,
    check_transition,
)

S = RequestState


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (S.RECEIVED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER),
        (S.WAITING_FOR_CUSTOMER, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.DONE),
    ],
)
def test_the_main_path_is_allowed(current: RequestState, to: RequestState) -> None:
    check_transition(current, to, None)


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (S.RECEIVED, S.DONE),
        (S.RECEIVED, S.WAITING_FOR_CUSTOMER),
        (S.WAITING_FOR_CUSTOMER, S.DONE),
        (S.DONE, S.IN_PROGRESS),
        (S.REJECTED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.IN_PROGRESS),
    ],
)
def test_other_moves_are_refused_naming_the_allowed_ones(
    current: RequestState, to: RequestState
) -> None:
    with pytest.raises(InvalidRequestTransition, match=current.value):
        check_transition(current, to, "a reason")


@pytest.mark.parametrize("current", sorted(OPEN))
def test_any_open_request_may_be_rejected_with_a_reason_only(current: RequestState) -> None:
    check_transition(current, S.REJECTED, "not our network: call the other utility")
    for missing in (None, "", "   "):
        with pytest.raises(InvalidRequestTransition, match="reason"):
            check_transition(current, S.REJECTED, missing)


def test_closed_states_are_final_and_the_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(RequestState)
    assert all(not TRANSITIONS[state] for state in CLOSED)
    assert set(RequestState) == OPEN | CLOSED and not OPEN & CLOSED
