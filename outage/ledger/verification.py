"""Checking the chains: every sealed row read back in its chain's order, its link and
its personal data's digest computed again, and the chain's end compared with its head.
The first row that does not match is named; the checks read one snapshot, so a sealer
at work meanwhile is not taken for a break."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outage.ledger.chain import GENESIS, Break, SealedRow, first_break
from outage.ledger.chains import CHAINS, ChainSpec
from outage.ledger.models import ChainHead

READ_BATCH = 5000


@dataclass(frozen=True)
class ChainCheck:
    chain: str
    checked: int
    """Rows read back."""
    head: int
    """The chain's last place, as its head says."""
    waiting: int
    """Rows not sealed yet."""
    broken: Break | None


def verify(session: Session, since: datetime | None = None) -> list[ChainCheck]:
    """Each chain checked whole, or from its first row on or after `since`."""
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return [_check(session, spec, since) for spec in CHAINS]


def _check(session: Session, spec: ChainSpec, since: datetime | None) -> ChainCheck:
    table = spec.table
    head = session.get(ChainHead, spec.name)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    waiting = session.scalar(
        select(func.count()).select_from(table).where(table.c.chain_seq.is_(None), spec.sealable())
    )
    start = 1
    if since is not None:
        start = session.scalar(
            select(func.min(table.c.chain_seq)).where(table.c[spec.time] >= since)
        ) or (head_seq + 1)
    broken, before = None, GENESIS
    if start > 1:
        anchor = session.execute(
            select(table.c.id, table.c.chain_hash).where(table.c.chain_seq == start - 1)
        ).first()
        if anchor is None:
            reason = f"place {start - 1}, where the check starts, is missing"
            broken = Break(spec.name, None, start - 1, reason)
        else:
            before = anchor.chain_hash
    checked = 0
    if broken is None:

        def counted() -> Iterator[SealedRow]:
            nonlocal checked
            for row in _rows(session, spec, start):
                checked += 1
                yield row

        broken, last_seq, last_link = first_break(
            spec.name, counted(), after_seq=start - 1, before=before
        )
        if broken is None and (last_seq, last_link) != (head_seq, head_hash):
            broken = _end_break(spec.name, last_seq, head_seq)
    return ChainCheck(spec.name, checked, head_seq, waiting or 0, broken)


def _end_break(chain: str, last_seq: int, head_seq: int) -> Break:
    if last_seq < head_seq:
        reason = f"the chain ends at place {last_seq}; it was sealed up to {head_seq}"
        return Break(chain, None, last_seq + 1, reason)
    reason = f"the chain's last row does not match its head (place {head_seq})"
    return Break(chain, None, last_seq, reason)


def _rows(session: Session, spec: ChainSpec, start: int) -> Iterator[SealedRow]:
    table = spec.table
    chained = (table.c.chain_seq, table.c.chain_hash, table.c.chain_digest, table.c.chain_salt)
    result = session.execute(
        select(*spec.columns(), *chained)
        .where(table.c.chain_seq >= start)
        .order_by(table.c.chain_seq)
        .execution_options(yield_per=READ_BATCH)
    ).mappings()
    for row in result:
        content, private, erased = spec.split(row)
        yield SealedRow(
            id=row["id"],
            seq=row["chain_seq"],
            stored=row["chain_hash"],
            content=content,
            digest=row["chain_digest"],
            private=private,
            salt=row["chain_salt"],
            erased=erased,
        )
