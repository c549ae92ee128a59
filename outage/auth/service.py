"""Staff accounts, sign-in with a back-off, sessions and tokens, API keys, and the audit log.

Plain functions on a session; the caller owns the transaction.
"""

import hashlib
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outage.auth import passwords
from outage.auth.enums import LoginOutcome, PrincipalKind, Role, Scope, SessionKind
from outage.auth.models import (
    ApiKey,
    AuditEntry,
    AuthSession,
    LoginAttempt,
    LoginThrottle,
    StaffUser,
)
from outage.errors import Invalid

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
KEY_PREFIX = "ok_"
"""Keys this service issues start so, which tells them apart from session tokens."""
MIN_GIVEN_KEY_LENGTH = 16
MAX_SECRET_LENGTH = 200
"""A longer token or key is not one of ours; refused without a lookup."""


class AccountError(Invalid, ValueError):
    """A user or key that cannot be created or changed as asked."""


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    """Failures of one username from one address before each further try waits."""
    address_max_failures: int = 50
    """Failures from one address over all usernames before each further try waits."""
    max_delay: timedelta = timedelta(minutes=5)
    window: timedelta = timedelta(minutes=15)
    """A count with no try for this long starts afresh."""
    lifetime: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class UserOut:
    username: str
    display_name: str | None
    role: Role
    crew_id: int | None
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class KeyOut:
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class StaffIdentity:
    """Who a valid session token belongs to."""

    user_id: int
    username: str
    display_name: str | None
    role: Role
    crew_id: int | None
    session_id: int
    kind: SessionKind
    csrf_token: str | None


@dataclass(frozen=True)
class KeyIdentity:
    key_id: int
    name: str
    scopes: frozenset[Scope]


@dataclass(frozen=True)
class Granted:
    """A successful sign-in: the token to hand over (shown once), and for a web session
    the CSRF token its forms carry."""

    token: str
    expires_at: datetime
    identity: StaffIdentity


@dataclass(frozen=True)
class Refused:
    """Wrong username or password (which of them is not said)."""


@dataclass(frozen=True)
class Locked:
    retry_after_s: int


LoginResult = Granted | Refused | Locked


def digest(secret: str) -> str:
    """How tokens and keys are stored: they are long and random, so SHA-256 suffices."""
    return hashlib.sha256(secret.encode()).hexdigest()


# --- users -------------------------------------------------------------------------------


def _user_out(user: StaffUser) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        crew_id=user.crew_id,
        created_at=user.created_at,
        disabled_at=user.disabled_at,
    )


def get_user(session: Session, *, username: str) -> UserOut | None:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
    return _user_out(user) if user else None


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    crew_id: int | None = None,
    display_name: str | None = None,
) -> UserOut:
    """A new staff account; a crew member must name their crew, nobody else may.

    That the crew exists is left to the table's foreign key, so accounts need not know
    what a crew is.
    """
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise AccountError(
            "a username is 2-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if (role is Role.CREW) != (crew_id is not None):
        raise AccountError("a crew member needs --crew, and only a crew member has one")
    if get_user(session, username=username) is not None:
        raise AccountError(f"user {username!r} exists already")
    try:
        hashed = passwords.hash_password(password)
    except passwords.WeakPassword as exc:
        raise AccountError(str(exc)) from exc
    user = StaffUser(
        username=username,
        display_name=(display_name or "").strip()[:200] or None,
        password_hash=hashed,
        role=role,
        crew_id=crew_id,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        if "fk_staff_users_crew_id" in str(exc.orig):
            raise AccountError(f"no crew {crew_id}: add it first (`outage crews add`)") from exc
        raise
    return _user_out(user)


def set_password(session: Session, *, username: str, password: str) -> bool:
    """Give a user a new password; False when there is no such user."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
    if user is None:
        return False
    try:
        user.password_hash = passwords.hash_password(password)
    except passwords.WeakPassword as exc:
        raise AccountError(str(exc)) from exc
    return True


def list_users(session: Session) -> list[UserOut]:
    return [_user_out(u) for u in session.scalars(select(StaffUser).order_by(StaffUser.username))]


def disable_user(session: Session, *, username: str, now: datetime) -> bool:
    """Disable an account and end its sessions; False when there is no such user."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
    if user is None:
        return False
    if user.disabled_at is None:
        user.disabled_at = now
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return True


# --- signing in --------------------------------------------------------------------------

ANY_USERNAME = ""
"""The throttle row of an address that counts failures over all usernames."""


def _allowance(policy: LoginPolicy) -> ColumnElement[int]:
    """Failures a throttle row takes before each further try waits."""
    return case(
        (LoginThrottle.username == ANY_USERNAME, policy.address_max_failures),
        else_=policy.max_failures,
    )


def _open_at(policy: LoginPolicy) -> ColumnElement[datetime]:
    """When a throttle row lets the next try through: 1 s after the last one beyond the
    allowance, doubling with each further failure, up to the cap."""
    doublings = func.least(LoginThrottle.failures - _allowance(policy), 30)
    seconds = func.least(policy.max_delay.total_seconds(), func.power(2, doublings))
    return LoginThrottle.last_at + func.make_interval(0, 0, 0, 0, 0, 0, seconds)


def _take_turn(
    session: Session, keys: list[dict[str, str]], now: datetime, policy: LoginPolicy
) -> int | None:
    """Count a try against each throttle row before its password is checked: None when
    every row lets it through, else the seconds until the latest of them will.

    The count is taken and raised in one statement that locks the rows until the caller
    commits, so parallel tries are counted one after the other. A try turned away
    changes nothing (waiting out the delay is all it takes).
    """
    stale = LoginThrottle.last_at <= now - policy.window
    free = or_(LoginThrottle.failures < _allowance(policy), stale, _open_at(policy) <= now)
    upsert = pg_insert(LoginThrottle).values([{**k, "failures": 1, "last_at": now} for k in keys])
    counted = session.execute(
        upsert.on_conflict_do_update(
            index_elements=[LoginThrottle.client_ip, LoginThrottle.username],
            set_={
                "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                "last_at": now,
            },
            where=free,
        ).returning(LoginThrottle.client_ip, LoginThrottle.username)
    ).all()
    if len(counted) == len(keys):
        return None
    _refund(session, [{"client_ip": ip, "username": name} for ip, name in counted])
    turned_away = [
        (k["client_ip"], k["username"]) for k in keys if tuple(k.values()) not in counted
    ]
    open_at = session.scalar(
        select(func.max(_open_at(policy))).where(
            tuple_(LoginThrottle.client_ip, LoginThrottle.username).in_(turned_away)
        )
    )
    return max(1, math.ceil((open_at - now).total_seconds())) if open_at else 1


def _refund(session: Session, keys: list[dict[str, str]]) -> None:
    """Take back a try counted against these rows that turned out not to be a failure."""
    for key in keys:
        session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.client_ip == key["client_ip"],
                LoginThrottle.username == key["username"],
            )
            .values(failures=func.greatest(LoginThrottle.failures - 1, 0))
        )


def forget_throttles(session: Session, *, before: datetime) -> int:
    """Drop the counts with no try since `before` (they hold client addresses, and a count
    quiet for the window starts afresh anyway); how many."""
    stale = LoginThrottle.last_at < before
    forgotten = session.scalars(
        delete(LoginThrottle).where(stale).returning(LoginThrottle.client_ip)
    )
    return len(forgotten.all())


def log_in(
    session: Session,
    *,
    username: str,
    password: str,
    kind: SessionKind,
    client_ip: str | None,
    now: datetime,
    policy: LoginPolicy,
) -> LoginResult:
    """Check a password and open a session; every attempt is recorded.

    Failures are throttled per username and client address, so nobody elsewhere can
    lock the account holder out: past `max_failures` each further try from that address
    waits twice as long as the one before, up to `max_delay`; one address trying many
    usernames is slowed the same way past `address_max_failures`. A success clears its
    pair's count; a counter with no try for `window` starts afresh.
    """
    name = username.strip().lower()[:100]
    address = (client_ip or "")[:45]
    pair = {"client_ip": address, "username": name}
    wait = (
        _take_turn(session, [{"client_ip": address, "username": ANY_USERNAME}, pair], now, policy)
        if name
        else None
    )
    if wait is not None:
        session.add(
            LoginAttempt(username=name, at=now, outcome=LoginOutcome.LOCKED, client_ip=client_ip)
        )
        return Locked(retry_after_s=wait)
    user = session.scalar(
        select(StaffUser).where(StaffUser.username == name, StaffUser.disabled_at.is_(None))
    )
    if not name or not passwords.verify_password(user.password_hash if user else None, password):
        session.add(
            LoginAttempt(username=name, at=now, outcome=LoginOutcome.FAILED, client_ip=client_ip)
        )
        return Refused()
    assert user is not None
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.client_ip == address, LoginThrottle.username == name
        )
    )
    _refund(session, [{"client_ip": address, "username": ANY_USERNAME}])
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session.add(
        LoginAttempt(username=name, at=now, outcome=LoginOutcome.SUCCEEDED, client_ip=client_ip)
    )
    return _open_session(session, user, kind=kind, now=now, lifetime=policy.lifetime)


def open_session(
    session: Session, *, username: str, kind: SessionKind, now: datetime, lifetime: timedelta
) -> Granted:
    """A session for an existing, enabled user without a password (tests, tools)."""
    user = session.scalar(
        select(StaffUser).where(
            StaffUser.username == username.lower(), StaffUser.disabled_at.is_(None)
        )
    )
    if user is None:
        raise AccountError(f"no enabled user {username!r}")
    return _open_session(session, user, kind=kind, now=now, lifetime=lifetime)


def _open_session(
    session: Session, user: StaffUser, *, kind: SessionKind, now: datetime, lifetime: timedelta
) -> Granted:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32) if kind is SessionKind.COOKIE else None
    row = AuthSession(
        token_hash=digest(token),
        user_id=user.id,
        kind=kind,
        csrf_token=csrf,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    identity = StaffIdentity(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        crew_id=user.crew_id,
        session_id=row.id,
        kind=kind,
        csrf_token=csrf,
    )
    return Granted(token=token, expires_at=row.expires_at, identity=identity)


def staff_by_token(
    session: Session, *, token: str, kind: SessionKind, now: datetime
) -> StaffIdentity | None:
    """The enabled user of a live session of this kind with this token."""
    if not token or len(token) > MAX_SECRET_LENGTH:
        return None
    row = session.execute(
        select(AuthSession, StaffUser)
        .join(StaffUser, StaffUser.id == AuthSession.user_id)
        .where(
            AuthSession.token_hash == digest(token),
            AuthSession.kind == kind,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
            StaffUser.disabled_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        return None
    found, user = row._tuple()
    return StaffIdentity(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        crew_id=user.crew_id,
        session_id=found.id,
        kind=found.kind,
        csrf_token=found.csrf_token,
    )


def end_session(session: Session, *, session_id: int, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def end_session_of_token(session: Session, *, token: str, kind: SessionKind, now: datetime) -> None:
    """End the session of this kind with this token, if it is live (signing out)."""
    if not token or len(token) > MAX_SECRET_LENGTH:
        return
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.token_hash == digest(token),
            AuthSession.kind == kind,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


# --- API keys ----------------------------------------------------------------------------


def _key_out(key: ApiKey) -> KeyOut:
    return KeyOut(
        name=key.name,
        prefix=key.prefix,
        scopes=[Scope(s) for s in key.scopes],
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


def create_api_key(
    session: Session, *, name: str, scopes: Iterable[Scope], key: str | None = None
) -> tuple[KeyOut, str]:
    """A new key with its scopes; the key itself is returned once and stored hashed.

    `key` takes over a key an integration already holds (at least 16 characters).
    """
    name = name.strip()
    chosen = sorted(set(scopes))
    if not KEY_NAME.fullmatch(name):
        raise AccountError("a key name is 1-100 characters: letters, digits, '.', '_' or '-'")
    if not chosen:
        raise AccountError("a key needs at least one scope")
    if key is not None and not MIN_GIVEN_KEY_LENGTH <= len(key) <= MAX_SECRET_LENGTH:
        raise AccountError(
            f"a key is {MIN_GIVEN_KEY_LENGTH} to {MAX_SECRET_LENGTH} characters long"
        )
    active = select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
    if session.scalar(active) is not None:
        raise AccountError(f"an active key named {name!r} exists already")
    secret = key if key is not None else KEY_PREFIX + secrets.token_urlsafe(32)
    if session.scalar(select(ApiKey.id).where(ApiKey.key_hash == digest(secret))) is not None:
        raise AccountError("that key is in use already")
    row = ApiKey(
        name=name,
        key_hash=digest(secret),
        prefix=secret[:8],
        scopes=[s.value for s in chosen],
    )
    session.add(row)
    session.flush()
    return _key_out(row), secret


def list_api_keys(session: Session) -> list[KeyOut]:
    return [_key_out(k) for k in session.scalars(select(ApiKey).order_by(ApiKey.name, ApiKey.id))]


def revoke_api_key(session: Session, *, name: str, now: datetime) -> bool:
    """Revoke the active key of this name; False when there is none."""
    revoked = session.execute(
        update(ApiKey)
        .where(ApiKey.name == name.strip(), ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiKey.id)
    ).all()
    return bool(revoked)


def key_by_secret(session: Session, *, key: str) -> KeyIdentity | None:
    """The active key with this value."""
    if not key or len(key) > MAX_SECRET_LENGTH:
        return None
    found = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == digest(key), ApiKey.revoked_at.is_(None))
    )
    if found is None:
        return None
    return KeyIdentity(key_id=found.id, name=found.name, scopes=frozenset(map(Scope, found.scopes)))


# --- the audit log -----------------------------------------------------------------------


def record(
    session: Session,
    *,
    actor: str,
    actor_kind: PrincipalKind,
    action: str,
    method: str | None = None,
    path: str | None = None,
    status: int | None = None,
    client_ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor=actor,
            actor_kind=actor_kind,
            action=action[:100],
            method=method,
            path=path,
            status=status,
            client_ip=client_ip,
            details=details or {},
        )
    )
