"""The life of a service request as data: the moves allowed between states.

Pure: no database, no HTTP. received -> in_progress -> (waiting_for_customer ->
in_progress)* -> done or rejected. A request may be rejected from any open state (a
duplicate, a request we cannot serve, a customer who never answered), always with a reason
the customer is told; done and rejected are final.
"""

from outage.care.enums import RequestState
from outage.errors import Conflict

S = RequestState

TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.RECEIVED: frozenset({S.IN_PROGRESS, S.REJECTED}),
    S.IN_PROGRESS: frozenset({S.WAITING_FOR_CUSTOMER, S.DONE, S.REJECTED}),
    S.WAITING_FOR_CUSTOMER: frozenset({S.IN_PROGRESS, S.REJECTED}),
    S.DONE: frozenset(),
    S.REJECTED: frozenset(),
}
"""Where each state may go next."""

CLOSED: frozenset[RequestState] = frozenset({S.DONE, S.REJECTED})
OPEN: frozenset[RequestState] = frozenset(set(RequestState) - CLOSED)


class InvalidRequestTransition(Conflict, ValueError):
    """A move the lifecycle does not allow, or a rejection without its reason."""


def check_transition(current: RequestState, to: RequestState, reason: str | None) -> None:
    """Raise InvalidRequestTransition, naming the allowed moves, unless current -> to is allowed."""
    allowed = TRANSITIONS[current]
    if to not in allowed:
        options = ", ".join(sorted(allowed)) or "none: it is closed"
        raise InvalidRequestTransition(
            f"a request that is {current.value} cannot become {to.value}; it may become: {options}"
        )
    if to is S.REJECTED and not (reason and reason.strip()):
        raise InvalidRequestTransition("a rejection needs a reason the customer is told")
