"""The columns every chained table carries (`outage.ledger` seals them): its place in
its chain, the hash linking it to the row before, and its personal data's keyed digest
with the key (erased with that data)."""

from typing import Any

from sqlalchemy import BigInteger, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column


class Chained:
    """Mixed into a chained table's model: NULL until the row is sealed."""

    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    chain_digest: Mapped[str | None] = mapped_column(String(64))
    """The keyed digest of the row's personal data, as sealed (None: it has none)."""
    chain_salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The digest's key: erased with the personal data."""


def chain_table_args(table: str, sealable: str | None = None) -> tuple[Any, ...]:
    """The chained table's constraint and index: one row per place in the chain, and the
    rows waiting to be sealed (those `sealable` picks) found without a scan."""
    return (
        UniqueConstraint("chain_seq", name=f"uq_{table}_chain_seq"),
        Index(
            f"ix_{table}_unsealed",
            "id",
            postgresql_where=text(
                f"chain_seq IS NULL AND {sealable}" if sealable else "chain_seq IS NULL"
            ),
        ),
    )
