"""Upgrading to the substation keys gives every report, meter event and unsealed message
the substation of its place as it is now (0 for none), and leaves a sealed message as it
was sealed."""

from alembic import command
from sqlalchemy import create_engine, text

from outage.db import alembic_config, session_factory, session_scope
from outage.grid.service import save_grid
from tests.outage.regions_grid import two_region_grid

_MESSAGE = (
    "INSERT INTO notifications (customer_id, kind, channel, address, language, subject,"
    " body, safety, status, attempts, due_at, next_attempt_at, delivery_key, sent_at,"
    " chain_seq) SELECT c.id, 'reply', 'sms', c.phone, 'vi', '', 'hi', false, :status, 0,"
    " now(), now(), :key, :sent_at, :seq FROM customers c WHERE c.account = 'NA1'"
)


def test_existing_rows_are_keyed_by_their_places_substation(fresh_database_url: str) -> None:
    with session_scope(session_factory(fresh_database_url)) as session:
        save_grid(session, two_region_grid())
    config = alembic_config(fresh_database_url)
    command.downgrade(config, "0042")
    engine = create_engine(fresh_database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reports (ticket, service_code, channel, status, match_method,"
                " match_confidence, candidates, premise_id)"
                " SELECT t, 'outage', 'web', 'received', 'account', 1, '[]', p"
                " FROM (VALUES ('T-PLACED', (SELECT id FROM premises WHERE ref = 'P-SA1')),"
                " ('T-NOWHERE', NULL::int)) AS r(t, p)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO meter_events (meter_id, premise_id, kind, occurred_at)"
                " SELECT meter_id, id, 'last_gasp', now() FROM premises WHERE ref = 'P-NA1'"
            )
        )
        connection.execute(
            text(_MESSAGE), {"status": "pending", "key": "a", "sent_at": None, "seq": None}
        )
        connection.execute(
            text(_MESSAGE), {"status": "sent", "key": "b", "sent_at": "now", "seq": 1}
        )
    engine.dispose()

    command.upgrade(config, "0044")

    with session_scope(session_factory(fresh_database_url)) as session:
        named = dict(session.execute(text("SELECT name, id FROM substations")).tuples().all())
        reports = session.execute(text("SELECT ticket, substation_id FROM reports")).tuples()
        events = session.scalars(text("SELECT substation_id FROM meter_events")).all()
        messages = session.execute(
            text("SELECT delivery_key, substation_id FROM notifications")
        ).tuples()
        assert dict(reports.all()) == {"T-PLACED": named["South"], "T-NOWHERE": 0}
        assert events == [named["North"]]
        assert dict(messages.all()) == {"a": named["North"], "b": None}
