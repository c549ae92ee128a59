"""Where each chain ends: what a removed last row is found against."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from outage.db import Base


class ChainHead(Base):
    __tablename__ = "chain_heads"
    __table_args__ = (CheckConstraint("seq >= 0", name="ck_chain_heads_seq"),)

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
