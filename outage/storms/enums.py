"""The values a storm and its regions move through."""

from enum import StrEnum


class StormPhase(StrEnum):
    """What customers of a region are told, in the order a storm moves through them.

    Utilities that do this well never give a job-level time before the damage is known:
    first they say they are assessing, then one time for the whole storm, then one per
    region, and only then each outage's own.
    """

    ASSESSING = "assessing"
    """Damage being assessed: no restoration time at all."""
    GLOBAL = "global"
    """One time for everyone the storm put out."""
    REGIONAL = "regional"
    """One time per region (a substation's area)."""
    JOB = "job"
    """Each outage's own estimate, as outside a storm."""


class StormAction(StrEnum):
    """What a `storm_events` row records."""

    DECLARED = "declared"
    LEVEL_SET = "level_set"
    PHASE_SET = "phase_set"
    ETR_SET = "etr_set"
    ENDED = "ended"


LEVELS = (1, 2, 3)
"""1: a storm the utility's own crews absorb; 2: crews from every district; 3: mutual aid."""


class EtrScope(StrEnum):
    """Whose time an ETR told is: the outage's own, or in a storm its area's or the
    storm's (when the last of their outages is expected back)."""

    OUTAGE = "outage"
    AREA = "area"
    STORM = "storm"
