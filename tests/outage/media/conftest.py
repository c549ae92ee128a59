"""A session rolled back after each test, and a bare report to hang photos on."""

import secrets
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session

from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.models import Report
from tests.conftest import rolled_back


@pytest.fixture
def session(grid_database: str) -> Iterator[Session]:
    with rolled_back(grid_database) as unit:
        yield unit


@pytest.fixture
def add_report() -> Callable[[Session], int]:
    """An unplaced report, as intake stores one; returns its id."""

    def add(db: Session) -> int:
        report = Report(
            ticket=f"P-{secrets.token_hex(5).upper()}",
            channel=Channel.API,
            status=ReportStatus.RECEIVED,
            match_method=MatchMethod.NONE,
            match_confidence=0.0,
            candidates=[],
        )
        db.add(report)
        db.flush()
        return report.id

    return add
