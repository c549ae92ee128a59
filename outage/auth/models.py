"""Tables of access control: staff accounts, their sessions, API keys, logins and the audit log.

Secrets are never stored: passwords as Argon2id hashes, session tokens and API keys (long
random strings) as their SHA-256.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from outage.auth.enums import LoginOutcome, PrincipalKind, Role, Scope, SessionKind
from outage.db import Base, checked_enum

SCOPES_SQL = "scopes <@ ARRAY[{}]::varchar[]".format(", ".join(f"'{s.value}'" for s in Scope))


class StaffUser(Base):
    """A staff member who signs in: one role; a crew member belongs to one crew."""

    __tablename__ = "staff_users"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_staff_users"),
        UniqueConstraint("username", name="uq_staff_users_username"),
        CheckConstraint("username = lower(username)", name="ck_staff_users_username_lower"),
        CheckConstraint("(role = 'crew') = (crew_id IS NOT NULL)", name="ck_staff_users_crew"),
        ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_staff_users_crew_id", ondelete="RESTRICT"
        ),
    )

    id: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(checked_enum(Role, "staff_role"))
    crew_id: Mapped[int | None] = mapped_column(Integer)
    """A crew with members cannot be deleted (nor can they be left crewless: the check)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthSession(Base):
    """A signed-in staff member: a web session (cookie) or an API client's bearer token."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_auth_sessions"),
        ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name="fk_auth_sessions_user_id", ondelete="CASCADE"
        ),
        UniqueConstraint("token_hash", name="uq_auth_sessions_token_hash"),
        CheckConstraint(
            "(kind = 'cookie') = (csrf_token IS NOT NULL)", name="ck_auth_sessions_csrf"
        ),
        CheckConstraint("expires_at > created_at", name="ck_auth_sessions_expiry"),
        Index("ix_auth_sessions_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    token_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[SessionKind] = mapped_column(checked_enum(SessionKind, "auth_session_kind"))
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    """The synchronizer token every form of a web session carries."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """An integration's key, limited to its scopes; revoked keys stay for the record."""

    __tablename__ = "api_keys"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_api_keys"),
        UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        CheckConstraint("cardinality(scopes) > 0", name="ck_api_keys_some_scope"),
        CheckConstraint(SCOPES_SQL, name="ck_api_keys_known_scopes"),
        Index(
            "ux_api_keys_active_name",
            "name",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    """Who holds the key, e.g. `sms-gateway` or `city-open311-app`."""
    key_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(12))
    """The key's first characters, to tell keys apart in a listing."""
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Every sign-in attempt, for the lockout and for the record."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_login_attempts"),
        Index("ix_login_attempts_username_at", "username", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(100))
    """As typed (lower-cased), whether or not such a user exists."""
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    outcome: Mapped[LoginOutcome] = mapped_column(checked_enum(LoginOutcome, "login_outcome"))
    client_ip: Mapped[str | None] = mapped_column(String(45))


class LoginThrottle(Base):
    """Failed sign-ins counted for the back-off: per username and client address, and
    per address over all usernames (`username` empty). A success clears its pair."""

    __tablename__ = "login_throttles"
    __table_args__ = (PrimaryKeyConstraint("client_ip", "username", name="pk_login_throttles"),)

    client_ip: Mapped[str] = mapped_column(String(45))
    """Empty when the address is unknown."""
    username: Mapped[str] = mapped_column(String(100))
    failures: Mapped[int] = mapped_column(Integer)
    """Counted before the password is checked, so parallel tries cannot overtake it."""
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The last try let through to the password check; the delay runs from it."""


class AuditEntry(Base):
    """A state change made by a signed-in staff member (or an administrator's command)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_audit_log"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    actor_kind: Mapped[PrincipalKind] = mapped_column(
        checked_enum(PrincipalKind, "audit_actor_kind")
    )
    action: Mapped[str] = mapped_column(String(100))
    """The permission the request used, or a command such as `users.add`."""
    method: Mapped[str | None] = mapped_column(String(10))
    path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    client_ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


__all__ = ["ApiKey", "AuditEntry", "AuthSession", "LoginAttempt", "LoginThrottle", "StaffUser"]
