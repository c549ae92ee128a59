"""Momentary interruptions as smart meters tell of them, for MAIFI_E.

A last gasp and the power restored that ends it within the momentary limit are no outage:
the engine opens no incident of them (`outage.prediction.meters`), so the records derived
from incidents (`outage.reliability.records`) do not hold them. They are read here from
the meter events, paired by event time the way the engine pairs them, whatever order they
arrived in, each a record of the premise's customers. Blinks of one customer within the
momentary limit of the first are one event (IEEE 1366: a recloser's every try). One an
incident records too (its gasp came while the engine could see it open) overlaps that
incident's record and is merged with it (`indices.merge_overlaps`), so it counts once.
"""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.grid.models import Customer
from outage.incidents.lifecycle import MOMENTARY_LIMIT
from outage.intake.models import MeterEvent
from outage.prediction.meters import Off, ended, supply_event
from outage.prediction.switching import SwitchEvent, outage_intervals
from outage.reliability.indices import InterruptionRecord


def meter_momentaries(
    session: Session, *, start: datetime, end: datetime
) -> list[InterruptionRecord]:
    """The momentary interruptions meters told of that began in [start, end)."""
    history: dict[str, list[SwitchEvent]] = defaultdict(list)
    rows = session.execute(
        select(MeterEvent.id, Customer.account, MeterEvent.kind, MeterEvent.occurred_at)
        .join(Customer, Customer.premise_id == MeterEvent.premise_id)
        .where(
            MeterEvent.occurred_at >= start - MOMENTARY_LIMIT,
            MeterEvent.occurred_at < end + MOMENTARY_LIMIT,
        )
    )
    for event_id, account, kind, occurred_at in rows:
        history[account].append(supply_event(event_id, kind, occurred_at))
    offs = ended({account: outage_intervals(events) for account, events in history.items()})
    records: list[InterruptionRecord] = []
    began: dict[str, Off] = {}
    momentary = sorted((o for o in offs if o.momentary), key=lambda o: (o.account, o.gasp.at))
    for off in momentary:
        first = began.get(off.account)
        if first is None or off.gasp.at - first.gasp.at > MOMENTARY_LIMIT:
            first = began[off.account] = off
        if start <= first.gasp.at < end:
            records.append(
                InterruptionRecord(
                    customer=off.account,
                    start=off.gasp.at,
                    end=off.restored_at,
                    event=f"meter/{first.gasp.id}",
                )
            )
    return records
