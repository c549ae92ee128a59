"""The crews' own kinds: where a crew comes from, and how a damaged place can be reached."""

from enum import StrEnum


class CrewOrigin(StrEnum):
    """Whose crew it is: ours, lent by another utility for a storm, or a contractor's."""

    OWN = "own"
    MUTUAL_AID = "mutual_aid"
    CONTRACTOR = "contractor"


class Access(StrEnum):
    """How a crew gets to the damage: as usual, with effort (mud, no road for a bucket
    truck), or not at all until the way is cleared."""

    NORMAL = "normal"
    DIFFICULT = "difficult"
    BLOCKED = "blocked"
