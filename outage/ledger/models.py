"""Where each chain ends (what a removed last row is found against), and the daily roots
published over them."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from outage.db import Base


class ChainHead(Base):
    __tablename__ = "chain_heads"
    __table_args__ = (CheckConstraint("seq >= 0", name="ck_chain_heads_seq"),)

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChainRoot(Base):
    """A day's root: every chain's head once the day was over, hashed into one value that
    is published, and signed with the utility's Ed25519 key where one is configured."""

    __tablename__ = "chain_roots"
    __table_args__ = (
        CheckConstraint("(signature IS NULL) = (public_key IS NULL)", name="ck_chain_roots_signed"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    """The local day it closes."""
    heads: Mapped[dict[str, Any]] = mapped_column(JSONB)
    """Per chain: {"seq": its last place, "hash": its link}."""
    root: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(128))
    """Of the root's hex text, in hex."""
    public_key: Mapped[str | None] = mapped_column(String(64))
    """The raw Ed25519 public key the signature checks with, in hex."""
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
