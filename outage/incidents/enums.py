"""The closed vocabularies of incidents (the statuses are in `lifecycle`)."""

from enum import StrEnum


class IncidentKind(StrEnum):
    OUTAGE = "outage"
    HAZARD = "hazard"
    """Wires down, fire, a tree on a line: a danger, whether or not anyone is out."""


class EvidenceSource(StrEnum):
    REPORT = "report"
    METER_EVENT = "meter_event"
    SCADA_EVENT = "scada_event"


class Action(StrEnum):
    """What a dispatcher or a crew does to an incident (`PATCH /incidents/{id}`)."""

    CONFIRM = "confirm"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    PARTIAL_RESTORE = "partial_restore"
    RESTORED = "restored"
    CANCEL = "cancel"
    CLOSE = "close"
    SET_CAUSE = "set_cause"
    SET_ETR = "set_etr"
    MOVE = "move"
    """To another device, chosen by a dispatcher."""
    SPLIT = "split"
    """Some of the evidence to a new incident at another device."""
    MERGE = "merge"
    """Another incident into this one."""
    RESTORED_BY_SWITCHING = "restored_by_switching"
    """The customers the live network supplies again are restored, and told."""


class AuditAction(StrEnum):
    """What an `incident_events` row records."""

    OPENED = "opened"
    UPDATED = "updated"
    """The engine changed its confidence, the customers affected, or the evidence."""
    MOVED = "moved"
    """The engine now blames another device (or premise)."""
    NESTED = "nested"
    """A nested incident was opened inside this one (details name it)."""
    MERGED = "merged"
    """This incident was merged into another one and cancelled."""
    ABSORBED = "absorbed"
    """Another incident was merged into this one."""
    CONFIRMED = "confirmed"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    REOPENED = "reopened"
    PARTIALLY_RESTORED = "partially_restored"
    RESTORED = "restored"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    CAUSE_SET = "cause_set"
    ETR_SET = "etr_set"
