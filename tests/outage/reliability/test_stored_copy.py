"""The spells' binary COPY is refused, not misread, when its rows are not laid out as the
report reads them: a column of another width after a change of the schema, or a NULL."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from outage.incidents.models import InterruptionSpell
from outage.reliability.stored import Scope, read_spells

BOUNDS = [datetime(2031, 1, 1, tzinfo=UTC), datetime(2031, 1, 2, tzinfo=UTC)]


def _spell(session: Session, **values: object) -> None:
    spell = {
        "customer_id": 1,
        "start": BOUNDS[0],
        "end": BOUNDS[1],
        "incident_id": 1,
        "planned": False,
        **values,
    }
    session.execute(insert(InterruptionSpell), [spell])


def test_a_column_of_another_width_is_refused_naming_it(session: Session) -> None:
    session.execute(text("ALTER TABLE interruption_spells ALTER COLUMN incident_id TYPE bigint"))
    _spell(session)
    with pytest.raises(RuntimeError, match=r"field event has \[8\] bytes .* not 4"):
        read_spells(session, scope=Scope(), bounds=BOUNDS, days=BOUNDS)


def test_a_null_is_refused(session: Session) -> None:
    session.execute(text("ALTER TABLE interruption_spells ALTER COLUMN planned DROP NOT NULL"))
    _spell(session, planned=None)
    _spell(session, customer_id=2)
    with pytest.raises(RuntimeError, match="COPY"):
        read_spells(session, scope=Scope(), bounds=BOUNDS, days=BOUNDS)
