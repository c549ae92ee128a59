"""Hash chains, pure: a row's link is a hash over its chain, its place, its content and
the link before it, so a row changed, removed or moved no longer matches from there on.

Personal data is not hashed in the clear: it enters the link as a keyed digest whose key
(the row's salt) is erased with the data, so what is erased cannot be recovered from the
chain, and what is kept can still be checked against it.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

GENESIS = "0" * 64
"""The link before a chain's first row."""


def _plain(value: Any) -> Any:
    """A value as JSON writes it the same way on every read."""
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def canonical(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTC times."""
    return json.dumps(
        _plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def private_digest(salt: bytes, private: Mapping[str, Any]) -> str:
    """The keyed digest of a row's personal data."""
    return hmac.new(salt, canonical(private), hashlib.sha256).hexdigest()


def link(chain: str, seq: int, content: Mapping[str, Any], digest: str | None, before: str) -> str:
    """The hash that seals a row at place `seq` of `chain` after the link `before`."""
    body = canonical([chain, seq, content, digest])
    return hashlib.sha256(before.encode() + b"\n" + body).hexdigest()


@dataclass(frozen=True)
class SealedRow:
    """A chained row as read back: what its link covers, and what it says it is."""

    id: int
    seq: int
    stored: str
    """Its link as stored."""
    content: Mapping[str, Any]
    digest: str | None
    """The digest of its personal data as sealed (None: it has none)."""
    private: Mapping[str, Any]
    salt: bytes | None
    """The digest's key; None once its personal data was erased."""
    erased: bool
    """Whether its personal data is in the erased state."""


@dataclass(frozen=True)
class Break:
    """The first place a chain does not match."""

    chain: str
    row_id: int | None
    """The row that does not match (None: the chain's end is missing)."""
    seq: int
    reason: str


def _mismatch(chain: str, row: SealedRow, before: str) -> str | None:
    if link(chain, row.seq, row.content, row.digest, before) != row.stored:
        return "its content, or its place, is not what was sealed"
    if row.salt is not None and private_digest(row.salt, row.private) != row.digest:
        return "its personal data is not what was sealed"
    if row.salt is None and row.digest is not None and not row.erased:
        return "its personal data's key is gone but the data was not erased"
    return None


def first_break(
    chain: str, rows: Iterable[SealedRow], *, after_seq: int = 0, before: str = GENESIS
) -> tuple[Break | None, int, str]:
    """The first row, in chain order from place `after_seq` + 1 (whose link before is
    `before`), that does not match; and the last place and link read, to compare with
    the chain's head."""
    expected, link_before = after_seq + 1, before
    for row in rows:
        if row.seq != expected:
            reason = f"place {expected} is missing: a row before this one was removed"
            return Break(chain, row.id, expected, reason), expected - 1, link_before
        mismatch = _mismatch(chain, row, link_before)
        if mismatch is not None:
            return Break(chain, row.id, row.seq, mismatch), row.seq, link_before
        expected, link_before = expected + 1, row.stored
    return None, expected - 1, link_before


@dataclass(frozen=True)
class Head:
    """Where a chain ends: its last place and link."""

    seq: int
    hash: str


def root_of(day: date, heads: Mapping[str, Head]) -> str:
    """One value over every chain's head at a day's end: what is published."""
    named = {name: {"seq": head.seq, "hash": head.hash} for name, head in heads.items()}
    return hashlib.sha256(canonical(["roots", day, named])).hexdigest()
