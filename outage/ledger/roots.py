"""Daily roots: once a day is over, every chain's head hashed into one value, stored and
published (and signed with the utility's Ed25519 key where one is configured). A chain
rewritten afterwards, links and head included, no longer reaches the heads a published
root names; a root rewritten in the database no longer carries the utility's signature."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage.errors import DomainError
from outage.ledger.chain import GENESIS, Head, root_of
from outage.ledger.chains import CHAINS
from outage.ledger.models import ChainHead, ChainRoot


class UnusableSigningKey(DomainError):
    """The configured signing key cannot be read as an Ed25519 private key."""


def signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise UnusableSigningKey(f"cannot read the signing key {path}: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise UnusableSigningKey(f"the signing key {path} is not an Ed25519 key")
    return key


def public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def heads(session: Session) -> dict[str, Head]:
    """Every chain's head now (an empty chain's: place 0)."""
    stored = {row.chain: row for row in session.scalars(select(ChainHead))}
    return {
        spec.name: Head(stored[spec.name].seq, stored[spec.name].hash)
        if spec.name in stored
        else Head(0, GENESIS)
        for spec in CHAINS
    }


def make_root(
    session: Session, day: date, now: datetime, key: Ed25519PrivateKey | None
) -> ChainRoot | None:
    """The root that closes `day`, made from the heads now; None if it exists already."""
    if session.get(ChainRoot, day) is not None:
        return None
    now_heads = heads(session)
    root = root_of(day, now_heads)
    made = session.scalar(
        insert(ChainRoot)
        .values(
            day=day,
            heads={name: {"seq": h.seq, "hash": h.hash} for name, h in now_heads.items()},
            root=root,
            signature=key.sign(root.encode()).hex() if key else None,
            public_key=public_hex(key.public_key()) if key else None,
            made_at=now,
        )
        .on_conflict_do_nothing(index_elements=[ChainRoot.day])
        .returning(ChainRoot)
    )
    return made


def day_ended(now: datetime, zone: ZoneInfo) -> date:
    """The last local day that is over."""
    return now.astimezone(zone).date() - timedelta(days=1)


def published(session: Session, *, limit: int, before: date | None = None) -> Sequence[ChainRoot]:
    """The latest roots first."""
    query = select(ChainRoot).order_by(ChainRoot.day.desc()).limit(limit)
    if before is not None:
        query = query.where(ChainRoot.day < before)
    return session.scalars(query).all()


@dataclass(frozen=True)
class RootBreak:
    day: date
    reason: str


def check_roots(
    session: Session, public_key: Ed25519PublicKey | None
) -> tuple[int, RootBreak | None]:
    """Each stored root: its value from its heads, its signature (by `public_key`, the
    utility's, when given), and each head still where the chain is. Roots checked, and the
    first that does not match."""
    roots = session.scalars(select(ChainRoot).order_by(ChainRoot.day)).all()
    for root in roots:
        reason = _root_mismatch(session, root, public_key)
        if reason is not None:
            return len(roots), RootBreak(root.day, reason)
    return len(roots), None


def _root_mismatch(
    session: Session, root: ChainRoot, public_key: Ed25519PublicKey | None
) -> str | None:
    named = {name: Head(int(h["seq"]), str(h["hash"])) for name, h in root.heads.items()}
    if root_of(root.day, named) != root.root:
        return "its value is not the hash of the heads it names"
    if public_key is not None:
        if root.signature is None or root.public_key != public_hex(public_key):
            return "it is not signed with the utility's key"
        try:
            public_key.verify(bytes.fromhex(root.signature), root.root.encode())
        except (InvalidSignature, ValueError):
            return "its signature does not match"
    for spec in CHAINS:
        head = named.get(spec.name)
        if head is None or head.seq == 0:
            continue
        table = spec.table
        link = session.scalar(select(table.c.chain_hash).where(table.c.chain_seq == head.seq))
        if link != head.hash:
            return f"{spec.name} at place {head.seq} is no longer what it was that day"
    return None
