"""Query values and the CSV rows of a report."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from outage.reliability.indices import compute_indices
from outage.reliability.schemas import InvalidMoment, parse_moment, report_csv
from outage.reliability.service import ReliabilityReport

START = datetime(2025, 3, 1, tzinfo=UTC)


def report(feeder: str) -> ReliabilityReport:
    nothing = compute_indices(
        [], customers_served=5, period=timedelta(days=1), n=3, celid_limit=timedelta(hours=8)
    )
    return ReliabilityReport(
        start=START,
        end=START + timedelta(days=1),
        as_of=START + timedelta(days=2),
        feeder=feeder,
        region=None,
        customers_served=5,
        n=3,
        celid_hours=8.0,
        threshold=None,
        major_event_days=[date(2025, 3, 1)],
        with_major_events=nothing,
        without_major_events=nothing,
        planned=nothing,
    )


def test_a_day_and_an_instant_are_both_accepted() -> None:
    assert parse_moment("start", "2025-03-01") == date(2025, 3, 1)
    assert parse_moment("start", "2025-03-01T10:00:00+07:00") == datetime.fromisoformat(
        "2025-03-01T10:00:00+07:00"
    )


def test_anything_else_names_the_parameter() -> None:
    with pytest.raises(InvalidMoment, match="end: '01/03/2025'"):
        parse_moment("end", "01/03/2025")


def test_csv_text_a_spreadsheet_would_run_is_quoted() -> None:
    [row, *_] = csv.DictReader(io.StringIO(report_csv(report('=HYPERLINK("http://x")'))))
    assert row["feeder"] == '\'=HYPERLINK("http://x")'
    assert row["major_event_days"] == "2025-03-01"
    assert row["caidi"] == ""
