"""The vocabulary of switching orders."""

from enum import StrEnum


class OrderState(StrEnum):
    """draft -> approved -> in_progress -> completed, or aborted from any but completed."""

    DRAFT = "draft"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABORTED = "aborted"


HOLDING = frozenset({OrderState.APPROVED, OrderState.IN_PROGRESS})
"""An order in these states holds its devices: no other may be approved or started on them."""


class StepAction(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    VERIFY = "verify"
    """Look at the device and confirm its state: nothing is operated."""
    TAG = "tag"
    """Hang a safety tag on the device: nothing is operated."""


OPERATING = frozenset({StepAction.OPEN, StepAction.CLOSE})


class StepState(StrEnum):
    PENDING = "pending"
    COMMANDED = "commanded"
    """Sent to SCADA; done when a SCADA event shows the device in the commanded state."""
    DONE = "done"
