"""What reliability looks like over HTTP: the JSON report, its CSV rows, and query values."""

import csv
import io
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from outage.errors import Invalid
from outage.reliability.indices import Indices
from outage.reliability.service import Moment, ReliabilityReport
from outage.spreadsheet import cell


class InvalidMoment(Invalid, ValueError):
    """A query value that is neither a date nor a date-time."""


def parse_moment(name: str, value: str) -> Moment:
    """A day (YYYY-MM-DD) or an ISO 8601 date-time."""
    try:
        if len(value) == len("YYYY-MM-DD"):
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidMoment(
            f"{name}: {value!r} is neither a date (YYYY-MM-DD) nor a date-time (ISO 8601)"
        ) from exc


class IndicesOut(BaseModel):
    """IEEE 1366-2012 indices of one set of interruptions."""

    model_config = ConfigDict(from_attributes=True)

    customers_served: int
    saifi: float = Field(description="Sustained interruptions per customer served.")
    saidi: float = Field(description="Minutes of sustained interruption per customer served.")
    caidi: float | None = Field(description="Minutes per sustained customer interruption.")
    caifi: float | None = Field(description="Sustained interruptions per customer interrupted.")
    asai: float = Field(description="Share of customer hours with supply.")
    maifi_e: float = Field(description="Momentary interruption events per customer served.")
    cemi_n: float = Field(description="Share of customers with more than n interruptions.")
    celid_s: float = Field(description="Share of customers with one interruption over t hours.")
    celid_t: float = Field(description="Share of customers out over t hours in all.")
    customer_interruptions: int
    customer_minutes: float
    customers_interrupted: int
    momentary_events: int


class ThresholdOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alpha: float = Field(description="Mean of ln(daily SAIDI), non-zero days of 5 years.")
    beta: float = Field(description="Sample standard deviation of the same logarithms.")
    t_med: float = Field(description="exp(alpha + 2.5 beta), minutes per day.")
    days: int = Field(description="History days with interruptions behind the threshold.")


class ReliabilityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    start: datetime
    end: datetime = Field(description="The period is [start, end).")
    as_of: datetime = Field(description="Interruptions still going on count up to here.")
    feeder: str | None
    region: str | None = Field(description="The substation whose feeders are covered.")
    customers_served: int
    n: int = Field(description="The n of CEMI_n.")
    celid_hours: float = Field(description="The t of CELID-s and CELID-t.")
    threshold: ThresholdOut | None = Field(
        description="The system's Major Event Day threshold (2.5 beta method); null without "
        "two days with interruptions in the five years before the period."
    )
    major_event_days: list[date]
    with_major_events: IndicesOut = Field(description="Unplanned interruptions, all days.")
    without_major_events: IndicesOut = Field(
        description="Unplanned interruptions begun outside Major Event Days."
    )
    planned: IndicesOut = Field(description="Planned interruptions, reported apart.")


FIGURES = (
    ("with_major_events", "unplanned"),
    ("without_major_events", "unplanned_excluding_major_event_days"),
    ("planned", "planned"),
)
"""The report's three sets of indices and their names in the CSV."""


def report_csv(report: ReliabilityReport) -> str:
    """One row per set of indices, each naming the period, the scope and the MED rule."""
    columns = list(IndicesOut.model_fields)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            *("start", "end", "feeder", "region", "figures"),
            *columns,
            *("n", "celid_hours", "t_med", "major_event_days"),
        ]
    )
    for attribute, name in FIGURES:
        indices: Indices = getattr(report, attribute)
        writer.writerow(
            [
                cell(report.start),
                cell(report.end),
                cell(report.feeder),
                cell(report.region),
                name,
                *(cell(getattr(indices, column)) for column in columns),
                cell(report.n),
                cell(report.celid_hours),
                cell(report.threshold.t_med if report.threshold else None),
                " ".join(day.isoformat() for day in report.major_event_days),
            ]
        )
    return out.getvalue()
