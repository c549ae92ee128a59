"""Upgrading gives a message sealed before the substation key existed the key 0, keeps
every other message's, and its chain still verifies."""

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, text

from outage.db import alembic_config, session_factory, session_scope
from outage.ledger.sealing import seal
from outage.ledger.verification import verify

_MESSAGE = (
    "INSERT INTO notifications (kind, channel, address, language, subject, body, safety,"
    " status, attempts, due_at, next_attempt_at, delivery_key, sent_at{key})"
    " VALUES ('reply', 'sms', '+84900000001', 'vi', '', 'hi', false, :status, 0, now(),"
    " now(), :delivery_key, :sent_at{value})"
)


def _message(url: str, **values: object) -> None:
    keyed = "substation_id" in values
    sql = _MESSAGE.format(
        key=", substation_id" if keyed else "", value=", :substation_id" if keyed else ""
    )
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(sql), values)
    engine.dispose()


def test_a_message_sealed_before_the_key_gets_0_and_its_chain_verifies(
    fresh_database_url: str,
) -> None:
    config = alembic_config(fresh_database_url)
    command.downgrade(config, "0042")
    _message(fresh_database_url, status="sent", delivery_key="old", sent_at=datetime.now(UTC))
    with session_scope(session_factory(fresh_database_url)) as session:
        seal(session, datetime.now(UTC))  # the key is left out of the seal: it reads no key
    command.upgrade(config, "0044")
    _message(
        fresh_database_url, status="pending", delivery_key="new", sent_at=None, substation_id=7
    )

    command.upgrade(config, "head")

    with session_scope(session_factory(fresh_database_url)) as session:
        keys = session.execute(text("SELECT delivery_key, substation_id FROM notifications"))
        nullable = session.scalar(
            text(
                "SELECT is_nullable FROM information_schema.columns"
                " WHERE table_name = 'notifications' AND column_name = 'substation_id'"
            )
        )
        assert dict(keys.tuples().all()) == {"old": 0, "new": 7}
        assert nullable == "NO"
    with session_scope(session_factory(fresh_database_url)) as session:
        checks = verify(session)  # what `outage audit verify` checks
    assert [(c.chain, c.checked, c.broken) for c in checks if c.chain == "sent_messages"] == [
        ("sent_messages", 1, None)
    ]
