"""Every table of the service, imported in one place so migrations see them all."""

from outage.auth.models import (
    ApiKey,
    AuditEntry,
    AuthSession,
    LoginAttempt,
    LoginThrottle,
    StaffUser,
)
from outage.care.models import ServiceRequest, ServiceRequestEvent
from outage.crews.models import (
    Crew,
    CrewPosition,
    CrewShift,
    DamageAssessment,
    DispatchPin,
    DispatchPlan,
    DispatchPlanJob,
)
from outage.grid.models import (
    Customer,
    Device,
    Feeder,
    GridNode,
    GridState,
    Premise,
    ServiceArea,
    StructureChange,
    Substation,
    SwitchOperation,
)
from outage.incidents.models import (
    Incident,
    IncidentEvent,
    IncidentEvidence,
    Interruption,
    InterruptionSpell,
    InterruptionTotal,
    RecordedIncident,
    SpellsDue,
)
from outage.intake.models import (
    FaultIndication,
    MeterEvent,
    Report,
    ScadaEvent,
    TicketGuess,
    ZaloEvent,
)
from outage.ledger.models import ChainHead, ChainRoot
from outage.media.models import Photo, PhotoFetch
from outage.notifications.models import (
    Notification,
    NotificationPreference,
    PlannedOutage,
    Subscription,
    SubscriptionCode,
    SubscriptionEvent,
)
from outage.orders.models import SwitchingOrder, SwitchingStep
from outage.outbox.models import NotificationEvent
from outage.restoration.models import HealingAttempt, RestorationOrder
from outage.storms.models import Storm, StormEvent, StormRegion

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuthSession",
    "ChainHead",
    "ChainRoot",
    "Crew",
    "CrewPosition",
    "CrewShift",
    "Customer",
    "DamageAssessment",
    "Device",
    "DispatchPin",
    "DispatchPlan",
    "DispatchPlanJob",
    "FaultIndication",
    "Feeder",
    "GridNode",
    "GridState",
    "HealingAttempt",
    "Incident",
    "IncidentEvent",
    "IncidentEvidence",
    "Interruption",
    "InterruptionSpell",
    "InterruptionTotal",
    "LoginAttempt",
    "LoginThrottle",
    "MeterEvent",
    "Notification",
    "NotificationEvent",
    "NotificationPreference",
    "Photo",
    "PhotoFetch",
    "PlannedOutage",
    "Premise",
    "RecordedIncident",
    "Report",
    "RestorationOrder",
    "ScadaEvent",
    "ServiceArea",
    "ServiceRequest",
    "ServiceRequestEvent",
    "SpellsDue",
    "StaffUser",
    "Storm",
    "StormEvent",
    "StormRegion",
    "StructureChange",
    "Subscription",
    "SubscriptionCode",
    "SubscriptionEvent",
    "Substation",
    "SwitchOperation",
    "SwitchingOrder",
    "SwitchingStep",
    "TicketGuess",
    "ZaloEvent",
]
