"""Sealing: rows not yet in their chain join it, each run's in the order of their ids,
each linked to the one before. Writers never wait for it (a row is sealed seconds after
it is written, by the engine's job or `outage audit seal`), and one sealer at a time
extends a chain (an advisory lock), so two never claim the same place. A row another
transaction holds (an erasure under way) is left for the next run: sealed now, it would
be sealed with the data being erased."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage.ledger.chain import GENESIS, link, private_digest
from outage.ledger.chains import CHAINS, ChainSpec
from outage.ledger.models import ChainHead

BATCH = 5000
"""Rows sealed per chain and transaction."""
SALT_BYTES = 16


@dataclass(frozen=True)
class Sealed:
    chain: str
    rows: int
    """Sealed by this run."""
    head: int
    """The chain's last place now."""


def seal(session: Session, now: datetime, *, batch: int = BATCH) -> list[Sealed]:
    """Seal up to `batch` waiting rows of each chain."""
    return [seal_chain(session, spec, now, batch=batch) for spec in CHAINS]


def seal_chain(session: Session, spec: ChainSpec, now: datetime, *, batch: int = BATCH) -> Sealed:
    session.execute(select(func.pg_advisory_xact_lock(spec.lock_key)))
    head = session.get(ChainHead, spec.name, populate_existing=True)
    seq, before = (head.seq, head.hash) if head else (0, GENESIS)
    table = spec.table
    rows = (
        session.execute(
            select(*spec.columns())
            .where(table.c.chain_seq.is_(None), spec.sealable())
            .order_by(table.c.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        .mappings()
        .all()
    )
    if not rows:
        return Sealed(spec.name, 0, seq)
    ids, seqs, hashes, digests, salts = [], [], [], [], []
    for row in rows:
        content, private, _ = spec.split(row)
        salt = os.urandom(SALT_BYTES) if private else None
        digest = private_digest(salt, private) if salt is not None else None
        seq += 1
        before = link(spec.name, seq, content, digest, before)
        ids.append(row["id"])
        seqs.append(seq)
        hashes.append(before)
        digests.append(digest)
        salts.append(salt)
    session.execute(
        text(
            f"UPDATE {table.name} AS t SET chain_seq = v.seq, chain_hash = v.hash,"
            " chain_digest = v.digest, chain_salt = v.salt"
            " FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]),"
            " CAST(:hashes AS text[]), CAST(:digests AS text[]), CAST(:salts AS bytea[]))"
            " AS v(id, seq, hash, digest, salt) WHERE t.id = v.id"
        ),
        {"ids": ids, "seqs": seqs, "hashes": hashes, "digests": digests, "salts": salts},
    )
    session.execute(
        insert(ChainHead)
        .values(chain=spec.name, seq=seq, hash=before, sealed_at=now)
        .on_conflict_do_update(
            index_elements=[ChainHead.chain], set_={"seq": seq, "hash": before, "sealed_at": now}
        )
    )
    return Sealed(spec.name, len(rows), seq)


def seal_all(
    session_work: Callable[[Callable[[Session], list[Sealed]]], list[Sealed]],
    now: datetime,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] = lambda rows: None,
) -> int:
    """Seal every waiting row, a batch per chain and transaction until none is left;
    rows sealed."""
    total = 0
    while True:
        sealed = session_work(lambda session: seal(session, now, batch=batch))
        done = sum(s.rows for s in sealed)
        total += done
        progress(done)
        if done == 0:
            return total
