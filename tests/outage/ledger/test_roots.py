"""Daily roots: what a rewrite of a whole chain's tail, links and head included, cannot
get past."""

from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from outage.app import create_app
from outage.db import session_scope
from outage.ledger.chain import GENESIS, link
from outage.ledger.chains import INCIDENT_EVENTS
from outage.ledger.models import ChainHead, ChainRoot
from outage.ledger.roots import UnusableSigningKey, check_roots, make_root, signing_key
from outage.ledger.sealing import seal
from outage.ledger.verification import verify
from tests.outage.ledger.test_verification import NOW, Records, _write

DAY = date(2026, 12, 6)


@pytest.fixture
def key(tmp_path: Path) -> Ed25519PrivateKey:
    """The utility's key, read back from its PEM file as the engine reads it."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    path = tmp_path / "audit.pem"
    path.write_bytes(pem)
    return signing_key(path)


@pytest.fixture
def rooted(sessions: sessionmaker[Session], key: Ed25519PrivateKey) -> Records:
    """Records sealed, and the day's root made over them."""
    records = _write(sessions)
    with session_scope(sessions) as session:
        seal(session, NOW)
        assert make_root(session, DAY, NOW, key) is not None
    return records


def _rewrite_from(session: Session, row_id: int) -> None:
    """What a database administrator can do: change a row, then compute every link after
    it again and move the head, so the chain verifies."""
    session.execute(
        text("UPDATE incident_events SET reason = 'rewritten' WHERE id = :id"), {"id": row_id}
    )
    table = INCIDENT_EVENTS.table
    start = session.scalar(select(table.c.chain_seq).where(table.c.id == row_id))
    before = (
        session.scalar(select(table.c.chain_hash).where(table.c.chain_seq == start - 1)) or GENESIS
    )
    rows = session.execute(
        select(*INCIDENT_EVENTS.columns(), table.c.chain_seq)
        .where(table.c.chain_seq >= start)
        .order_by(table.c.chain_seq)
    ).mappings()
    for row in rows:
        content, _, _ = INCIDENT_EVENTS.split(row)
        before = link(INCIDENT_EVENTS.name, row["chain_seq"], content, None, before)
        session.execute(
            text("UPDATE incident_events SET chain_hash = :h WHERE id = :id"),
            {"h": before, "id": row["id"]},
        )
        last = row["chain_seq"]
    head = session.get(ChainHead, INCIDENT_EVENTS.name)
    assert head is not None
    head.seq, head.hash = last, before


def test_a_day_has_one_root(
    sessions: sessionmaker[Session], rooted: Records, key: Ed25519PrivateKey
) -> None:
    with session_scope(sessions) as session:
        assert make_root(session, DAY, NOW, key) is None
        assert check_roots(session, key.public_key()) == (1, None)


def test_a_chain_rewritten_to_its_end_verifies_but_not_against_its_root(
    sessions: sessionmaker[Session], rooted: Records, key: Ed25519PrivateKey
) -> None:
    with session_scope(sessions) as session:
        _rewrite_from(session, rooted.incident_events[1])
    with session_scope(sessions) as session:
        assert all(check.broken is None for check in verify(session))
    with session_scope(sessions) as session:
        checked, broken = check_roots(session, key.public_key())
    assert checked == 1 and broken is not None and broken.day == DAY
    assert "incident_events" in broken.reason


def test_a_root_made_again_over_a_rewritten_chain_lacks_the_utilitys_signature(
    sessions: sessionmaker[Session], rooted: Records, key: Ed25519PrivateKey
) -> None:
    with session_scope(sessions) as session:
        _rewrite_from(session, rooted.incident_events[0])
        session.execute(text("DELETE FROM chain_roots"))
        make_root(session, DAY, NOW, Ed25519PrivateKey.generate())
    with session_scope(sessions) as session:
        assert check_roots(session, None)[1] is None  # nothing to tell it by but the key
        broken = check_roots(session, key.public_key())[1]
    assert broken is not None and "utility's key" in broken.reason


def test_a_root_whose_value_was_changed_does_not_match_its_heads(
    sessions: sessionmaker[Session], rooted: Records
) -> None:
    with session_scope(sessions) as session:
        session.execute(text("UPDATE chain_roots SET root = repeat('0', 64)"))
    with session_scope(sessions) as session:
        broken = check_roots(session, None)[1]
    assert broken is not None and "hash of the heads" in broken.reason


def test_a_key_that_is_not_ed25519_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "not-a-key.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    with pytest.raises(UnusableSigningKey, match="cannot read the signing key"):
        signing_key(path)


def test_the_public_reads_the_roots_and_nothing_else(
    ledger_database: str, sessions: sessionmaker[Session], rooted: Records
) -> None:
    with TestClient(create_app(ledger_database)) as anyone:
        answer = anyone.get("/api/v1/transparency/roots")
    assert answer.status_code == 200
    (published,) = answer.json()
    with session_scope(sessions) as session:
        stored = session.scalars(select(ChainRoot)).one()
    assert (published["day"], published["root"], published["signature"]) == (
        DAY.isoformat(),
        stored.root,
        stored.signature,
    )
    assert set(published["heads"]) == {"incident_events", "service_request_events", "sent_messages"}
