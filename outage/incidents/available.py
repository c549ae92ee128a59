"""Which actions an incident takes now, so a page offers only those the server will accept.

Pure: the lifecycle's transitions and each action's own conditions (a crew to move, a
cause to close, customers to restore), read from what the incident is. The rules mirror
the checks in `outage.incidents.actions`; a test applies every action offered here to
incidents in every state and expects each to be accepted.
"""

from dataclasses import dataclass

from outage.incidents.enums import Action, IncidentKind
from outage.incidents.lifecycle import ACTIVE, FINAL, IncidentStatus, can_transition

S = IncidentStatus


@dataclass(frozen=True)
class ActionFacts:
    """What decides the actions an incident takes, besides its status."""

    status: IncidentStatus
    kind: IncidentKind
    has_crew: bool
    has_device: bool
    has_cause: bool
    reports: int
    """Reports the incident holds: a split moves some of them, so it needs two."""
    customers_out: int
    """Customers affected and not restored yet."""
    resupplied: bool
    """Some of its customers have supply again through switching, not yet restored."""
    nested_active: bool
    """An incident nested inside it is still active: it cannot be closed."""


def available_actions(facts: ActionFacts) -> tuple[Action, ...]:
    """The actions the incident takes now, in `Action`'s order."""
    status, active = facts.status, facts.status in ACTIVE
    crewed = facts.has_crew
    offered = {
        Action.CONFIRM: status is S.PREDICTED,
        Action.ASSIGN: active and can_transition(status, S.DISPATCHED),
        Action.UNASSIGN: crewed and can_transition(status, S.CONFIRMED),
        Action.EN_ROUTE: crewed and status is not S.EN_ROUTE and can_transition(status, S.EN_ROUTE),
        Action.ON_SITE: crewed and status is not S.ON_SITE and can_transition(status, S.ON_SITE),
        Action.PARTIAL_RESTORE: active
        and facts.customers_out >= 2
        and can_transition(status, S.PARTIALLY_RESTORED),
        Action.RESTORED: active,
        Action.CANCEL: can_transition(status, S.CANCELLED),
        Action.CLOSE: status is S.RESTORED and facts.has_cause and not facts.nested_active,
        Action.SET_CAUSE: status not in FINAL,
        Action.SET_ETR: active,
        Action.MOVE: active,
        Action.SPLIT: active and facts.kind is IncidentKind.OUTAGE and facts.reports >= 2,
        Action.MERGE: active,
        Action.RESTORED_BY_SWITCHING: active and facts.has_device and facts.resupplied,
    }
    return tuple(action for action in Action if offered[action])


def mergeable(facts: ActionFacts) -> bool:
    """Whether another incident may take this one in: merged away it is cancelled, so it
    must be cancellable and have no crew on it."""
    cancellable = can_transition(facts.status, S.CANCELLED)
    return facts.status in ACTIVE and not facts.has_crew and cancellable
