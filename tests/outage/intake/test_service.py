"""Filing a report: two simultaneous reports of one customer count once, whichever clue
placed them (the lock taken with the geocoding, or on its own)."""

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from outage.db import session_factory, session_scope
from outage.grid.models import Feeder
from outage.grid.regions import UNPLACED
from outage.grid.service import save_grid
from outage.intake.enums import ReportStatus
from outage.intake.models import Report
from outage.intake.schemas import ReceiptOut, ReportIn
from outage.intake.service import Submission, submit_report
from outage.settings import get_settings
from tests.outage.intake.conftest import SampleCustomer
from tests.outage.regions_grid import two_region_grid

WAIT_S = 0.5
"""Long enough for an unlocked second report to have been filed."""


def _clues(customer: SampleCustomer, clue: str) -> dict[str, Any]:
    if clue == "account":
        return {"account": customer.account}
    return {"lon": customer.lon, "lat": customer.lat}


@pytest.mark.parametrize("clue", ["account", "gps"])
def test_a_report_sent_while_the_customers_first_is_being_filed_joins_it(
    grid_database: str, new_customer: Callable[..., SampleCustomer], clue: str
) -> None:
    customer = new_customer()
    report = ReportIn(**_clues(customer, clue), description="no power")
    sessions = session_factory(grid_database)
    settings = get_settings()
    second: list[ReceiptOut] = []

    def file_second() -> None:
        with sessions() as session, session.begin():
            second.append(submit_report(session, Submission(report), settings))

    with sessions() as first_session, first_session.begin():
        first = submit_report(first_session, Submission(report), settings)
        racing = threading.Thread(target=file_second)
        racing.start()
        racing.join(WAIT_S)
        assert racing.is_alive(), "the second report did not wait for the first"
    racing.join(30)
    assert first.status is ReportStatus.RECEIVED
    assert [(r.status, r.duplicate_of) for r in second] == [(ReportStatus.DUPLICATE, first.ticket)]


def _key(database_url: str, receipt: ReceiptOut) -> tuple[int, int | None]:
    with session_scope(session_factory(database_url)) as session:
        return (
            session.execute(
                select(Report.substation_id, Feeder.substation_id)
                .outerjoin(Feeder, Feeder.id == Report.feeder_id)
                .where(Report.id == receipt.id)
            )
            .one()
            ._tuple()
        )


def test_a_placed_report_is_keyed_by_its_feeders_substation(
    grid_database: str, new_customer: Callable[..., SampleCustomer]
) -> None:
    report = ReportIn(account=new_customer().account)
    with session_scope(session_factory(grid_database)) as session:
        receipt = submit_report(session, Submission(report), get_settings())
    key, home = _key(grid_database, receipt)
    assert key == home != UNPLACED


def test_a_report_placed_nowhere_is_keyed_unplaced(grid_database: str) -> None:
    report = ReportIn(address="nowhere we know", description="dark")
    with session_scope(session_factory(grid_database)) as session:
        receipt = submit_report(session, Submission(report), get_settings())
    assert _key(grid_database, receipt) == (UNPLACED, None)


def test_a_report_after_an_import_moved_the_customer_to_another_substation_joins_the_first(
    regions_database: str,
) -> None:
    """The first report is filed under North's key; the second, under South's, finds it
    through the move the import recorded."""
    report = ReportIn(account="NA1", description="no power")
    sessions = session_factory(regions_database)
    with session_scope(sessions) as session:
        first = submit_report(session, Submission(report), get_settings())
    grid = two_region_grid()
    moved = [replace(p, node="S-A") if p.ref == "P-NA1" else p for p in grid.premises]
    with session_scope(sessions) as session:
        save_grid(session, replace(grid, premises=moved))
    with session_scope(sessions) as session:
        second = submit_report(session, Submission(report), get_settings())
    assert _key(regions_database, first) != _key(regions_database, second)
    assert (second.status, second.duplicate_of) == (ReportStatus.DUPLICATE, first.ticket)
