"""Password hashing: Argon2id (argon2-cffi) with its recommended parameters."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from outage.errors import Invalid

MIN_LENGTH = 10
MAX_LENGTH = 256
"""Beyond this a password is refused unhashed: hashing megabytes is a denial of service."""


@lru_cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash("not anyone's password")


class WeakPassword(Invalid, ValueError):
    """A password too short or too long to accept."""


def check_strength(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    """An encoded Argon2id hash (salt and parameters inside) of an acceptable password."""
    return _hasher().hash(check_strength(password))


def verify_password(encoded: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash, the same work is done and False returned,
    so the answer takes as long for an unknown user as for a wrong password."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher().verify(encoded or _dummy_hash(), password) and encoded is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str) -> bool:
    """Whether the hash was made with older parameters than today's."""
    return _hasher().check_needs_rehash(encoded)
