"""The vocabulary of the live network."""

from enum import StrEnum


class SwitchSource(StrEnum):
    """What operated a switchable device."""

    SCADA = "scada"
    ORDER = "order"
    """A step of a switching order, executed by SCADA or confirmed by a crew."""
    CREW = "crew"
    """A crew's report from the field ("opened X", "replaced fuse Y")."""
    DISPATCHER = "dispatcher"
    """Set by hand in the control room (a device without telemetry)."""
