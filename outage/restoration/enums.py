"""The vocabulary of restoration by switching."""

from enum import StrEnum


class HealingOutcome(StrEnum):
    """What self-healing did with an incident it looked at (once)."""

    STARTED = "started"
    """It started an order of the plan's leading remote-controlled steps."""
    NOT_TRIPPED = "not_tripped"
    """No protective device protection tripped on the fault's way: left to the dispatcher."""
    NOTHING_REMOTE = "nothing_remote"
    """No plan begins with remote-controlled steps that bring customers back."""
    REFUSED = "refused"
    """Planning or the order flow refused (the reason says why): left to the dispatcher."""
