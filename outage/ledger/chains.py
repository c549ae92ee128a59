"""What each chain seals: its table, which rows, and which of their columns are content
(sealed as they are), personal data (sealed as a keyed digest, erasable) or left out
(what changes after the fact, such as a message's delivery attempts)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, ColumnElement, Table, true

from outage.care.models import ServiceRequestEvent
from outage.chained import Chained
from outage.incidents.models import IncidentEvent
from outage.notifications.enums import DeliveryStatus
from outage.notifications.models import Notification
from outage.privacy import ERASED

CHAIN_COLUMNS = frozenset(c for c in vars(Chained) if c.startswith("chain_"))


@dataclass(frozen=True)
class ChainSpec:
    name: str
    model: type
    time: str
    """The column of when it happened: what `--since` reads."""
    left_out: frozenset[str] = frozenset()
    """Columns that change after the row is sealed, by design, or say nothing of what
    was done (a message's idempotency key, derived from its contact; its substation key,
    where it is stored)."""

    @property
    def table(self) -> Table:
        return cast(Table, self.model.__table__)  # type: ignore[attr-defined]

    @property
    def lock_key(self) -> int:
        """The advisory lock that lets one sealer at a time extend the chain."""
        return 0x5EA1_0000 + CHAINS.index(self)

    def sealable(self) -> ColumnElement[bool]:
        if self.model is Notification:
            return Notification.status == DeliveryStatus.SENT
        return true()

    def columns(self) -> list[Column[Any]]:
        return [c for c in self.table.columns if c.name not in CHAIN_COLUMNS | self.left_out]

    def split(self, row: Mapping[Any, Any]) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """The row's content, its personal data, and whether that data is erased. A NULL
        is left out of the content, so a nullable column added to the table later leaves
        the rows sealed before it as they were sealed."""
        names = [c.name for c in self.columns()]
        private = self._private(row)
        content = {
            name: row[name] for name in names if name not in private and row[name] is not None
        }
        return content, {name: row[name] for name in private}, self._erased(row)

    def _private(self, row: Mapping[Any, Any]) -> tuple[str, ...]:
        if self.model is ServiceRequestEvent:
            return ("note",)
        if self.model is Notification:
            return ("address", "body") if row["service_request_id"] is not None else ("address",)
        return ()

    def _erased(self, row: Mapping[Any, Any]) -> bool:
        """As `outage.privacy` leaves it: the note gone, the address (and a request's
        message's text) replaced."""
        return all(
            row[name] is None if name == "note" else row[name] == ERASED
            for name in self._private(row)
        )


INCIDENT_EVENTS = ChainSpec("incident_events", IncidentEvent, "at")
REQUEST_EVENTS = ChainSpec("service_request_events", ServiceRequestEvent, "at")
SENT_MESSAGES = ChainSpec(
    "sent_messages",
    Notification,
    "sent_at",
    left_out=frozenset(
        {
            "status",
            "attempts",
            "due_at",
            "next_attempt_at",
            "claimed_at",
            "claimed_by",
            "last_error",
            "reply",
            "replied_at",
            "reply_report_id",
            "updated_at",
            "delivery_key",
            "substation_id",
        }
    ),
)
CHAINS = (INCIDENT_EVENTS, REQUEST_EVENTS, SENT_MESSAGES)


def chain_named(name: str) -> ChainSpec:
    return next(spec for spec in CHAINS if spec.name == name)
