"""The vocabulary of switching orders."""

from enum import StrEnum


class OrderState(StrEnum):
    """draft -> approved -> in_progress -> completed, or aborted from any but completed;
    in_progress <-> held while a failed step waits for the dispatcher."""

    DRAFT = "draft"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    HELD = "held"
    """A step failed (SCADA never confirmed it): nothing goes on until the dispatcher
    retries the step or aborts the order."""
    COMPLETED = "completed"
    ABORTED = "aborted"


HOLDING = frozenset({OrderState.APPROVED, OrderState.IN_PROGRESS, OrderState.HELD})
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
    FAILED = "failed"
    """SCADA did not confirm the command in time; the step may be carried out again."""
