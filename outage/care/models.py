"""Tables of customer care: service requests and the trail of their state changes."""

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from outage import clock
from outage.care.enums import RequestState, RequestType, TrailKind
from outage.chained import Chained, chain_table_args
from outage.db import Base, LanguageCode, checked_enum
from outage.i18n import Language
from outage.intake.enums import Channel

OPEN_SQL = "state IN ('received', 'in_progress', 'waiting_for_customer')"
"""The partial-index predicate of open requests (the back-office queue)."""

USERNAME_LENGTH = 64
"""A staff username's longest (`outage.auth`'s rule; care holds them as plain text)."""


class CareTeam(Base):
    """A team of the care centre that owns requests, with the supervisor its late work
    is escalated to. Staff are named by username: care knows nothing of accounts, and the
    route that names one checks it (`outage/api/care.py`)."""

    __tablename__ = "care_teams"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    """Shown to customers ("your request is now handled by ..."): a team's name, never a
    person's."""
    supervisor: Mapped[str | None] = mapped_column(String(USERNAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class CareTeamMember(Base):
    __tablename__ = "care_team_members"
    __table_args__ = (UniqueConstraint("team_id", "username", name="uq_care_team_members"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("care_teams.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), index=True)


class ServiceRequest(Base):
    """A customer's request to customer care, with its SLA due time and, once closed, rating.

    `due_at` is fixed when the request arrives, from the target then configured: changing
    a target later does not move the goalposts of work already promised.
    """

    __tablename__ = "service_requests"
    __table_args__ = (
        CheckConstraint(
            "(closed_at IS NOT NULL) = (state IN ('done', 'rejected'))",
            name="ck_service_requests_closed_at",
        ),
        CheckConstraint(
            "(state = 'rejected') = (rejection_reason IS NOT NULL)",
            name="ck_service_requests_rejection_reason",
        ),
        CheckConstraint(
            "rating IS NULL OR (rating BETWEEN 1 AND 5 AND closed_at IS NOT NULL)",
            name="ck_service_requests_rating",
        ),
        CheckConstraint("(rating IS NULL) = (rated_at IS NULL)", name="ck_service_requests_rated"),
        CheckConstraint("due_at > received_at", name="ck_service_requests_due_after_received"),
        CheckConstraint("language IN ('vi', 'en')", name="ck_service_requests_language"),
        Index("ix_service_requests_open_due", "due_at", postgresql_where=OPEN_SQL),
        Index("ix_service_requests_type_received", "request_type", "received_at"),
        Index("ix_service_requests_customer_received", "customer_id", "received_at"),
        Index("ix_service_requests_premise_received", "premise_id", "received_at"),
        Index("ix_service_requests_team_due", "owner_team_id", "due_at", postgresql_where=OPEN_SQL),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(16), unique=True)
    request_type: Mapped[RequestType] = mapped_column(
        checked_enum(RequestType, "service_request_type", length=40)
    )
    channel: Mapped[Channel] = mapped_column(checked_enum(Channel, "service_request_channel"))
    language: Mapped[Language] = mapped_column(LanguageCode, server_default="vi")
    """The language the request came in: its messages' when it is on no customer."""
    state: Mapped[RequestState] = mapped_column(checked_enum(RequestState, "service_request_state"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the customer told us (untrusted text, escaped wherever it is shown).
    account_given: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    address_given: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """The type's own answers (household count, supply purpose), by attribute code."""
    geom: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True
    )
    # Who it is about, when a clue placed it.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    premise_id: Mapped[int | None] = mapped_column(ForeignKey("premises.id"))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # Who owns it: a team always, and an agent of it when one took it on.
    owner_team_id: Mapped[int] = mapped_column(ForeignKey("care_teams.id"))
    owner_agent: Mapped[str | None] = mapped_column(String(USERNAME_LENGTH))
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When its owner was warned its due time is near (once per request)."""
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When, past due, it was passed to its team's supervisor (once per request)."""


class ServiceRequestEvent(Chained, Base):
    """The trail of a request: who moved it to which state, when, and what they noted.
    Never edited (but for erasing the note): sealed into a chain (`outage.ledger`).

    A row with a `kind` records a change of owner, a warning, an escalation or the
    customer's rating (in `rating`, the comment as its note); its state columns hold the
    state the request was in (unchanged). Rows without one are its arrival
    (which names the team it first went to in `owner_team`) and its changes of state. The
    columns added later are nullable with no default, so the rows sealed before them read
    NULL, which a seal leaves out."""

    __tablename__ = "service_request_events"
    __table_args__ = (
        Index("ix_service_request_events_request_at", "request_id", "at"),
        CheckConstraint(
            "(rating IS NULL) = (kind IS DISTINCT FROM 'rated')"
            " AND (rating IS NULL OR rating BETWEEN 1 AND 5)",
            name="ck_service_request_events_rating",
        ),
        *chain_table_args("service_request_events"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"))
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(Text)
    from_state: Mapped[RequestState | None] = mapped_column(
        checked_enum(RequestState, "service_request_event_from_state")
    )
    to_state: Mapped[RequestState] = mapped_column(
        checked_enum(RequestState, "service_request_event_to_state")
    )
    note: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[TrailKind | None] = mapped_column(
        checked_enum(TrailKind, "service_request_event_kind")
    )
    owner_team: Mapped[str | None] = mapped_column(Text)
    """The team's name then (a team may be renamed; the trail says what was true)."""
    owner_agent: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
