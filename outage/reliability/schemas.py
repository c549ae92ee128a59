"""What reliability looks like over HTTP: the JSON reports (the indices, the after-action
report), their CSV rows, and query values."""

import csv
import io
from dataclasses import fields
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from dispatch.replay import Policy
from outage.errors import Invalid
from outage.notifications.enums import DeliveryChannel
from outage.outbox.enums import EventKind
from outage.reliability.after_action import AfterAction
from outage.reliability.indices import Indices
from outage.reliability.replay import Replay
from outage.reliability.service import Moment, ReliabilityReport
from outage.reliability.transparency import AreaMonth, Figures, TypeMonth
from outage.spreadsheet import cell
from outage.storms.enums import StormAction


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


# The after-action report (`outage.reliability.after_action`)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class StormMarkOut(_Out):
    at: datetime
    action: StormAction
    level: int | None
    phase: str | None


class StormSummaryOut(_Out):
    id: int
    name: str
    level: int
    declared_at: datetime
    ended_at: datetime | None = Field(description="null while the storm is on")
    marks: list[StormMarkOut] = Field(description="Its audit trail: declared, levels, phases")


class HourOut(_Out):
    at: datetime = Field(description="The start of the hour")
    customers_out: int = Field(description="Customers out at the start of the hour")
    opened: int = Field(description="Outages begun in the hour")
    restored: int = Field(description="Outages restored in the hour")


class CrewUseOut(_Out):
    crew_id: int
    name: str
    shift_hours: float
    job_hours: float
    utilisation: float | None = Field(description="job_hours / shift_hours; null off shift")


class FirstEtrOut(_Out):
    incident_id: int
    told_at: datetime
    etr: datetime
    latest: datetime | None
    restored_at: datetime
    error_minutes: float = Field(description="Restoration minus ETR: late is positive")
    covered: bool | None = Field(description="Restored by the latest time; null: no range")


class EtrLapseOut(_Out):
    incident_id: int
    told_at: datetime
    deadline: datetime


class EtrAccuracyOut(_Out):
    restored: int = Field(description="Outages restored in the period")
    told: int = Field(description="Of those, the ones told an ETR")
    median_abs_error_minutes: float | None
    ranged: int = Field(description="Of those told, the ones whose first ETR had a range")
    covered: int
    coverage: float | None = Field(description="covered / ranged")
    firsts: list[FirstEtrOut]
    lapses: list[EtrLapseOut]
    lapsed_incidents: int


class ToldInTimeOut(_Out):
    outages: int
    customers_affected: int
    customers_told: int = Field(description="First told within 15 minutes of the start")
    share: float | None


class NotificationCountOut(_Out):
    kind: EventKind
    channel: DeliveryChannel
    sent: int


class AfterActionOut(_Out):
    start: datetime
    end: datetime = Field(description="The period is [start, end).")
    as_of: datetime = Field(description="Figures stop here when the period has not ended.")
    storm: StormSummaryOut | None
    timeline: list[HourOut]
    crews: list[CrewUseOut]
    etr: EtrAccuracyOut
    told: ToldInTimeOut
    notifications: list[NotificationCountOut]


class ReplayedJobOut(_Out):
    incident_id: int
    customers: int
    recorded_crew_id: int
    recorded_at: datetime = Field(description="When the recorded crew finished it")
    crew_id: int | None = Field(description="The replay's crew (added crews are negative)")
    replayed_at: datetime | None = Field(description="null: no crew could take it")


class ReplayOut(_Out):
    start: datetime
    end: datetime = Field(description="The period is [start, end).")
    as_of: datetime
    storm_id: int | None
    policy: Policy
    recorded_crews: int
    crews: int
    recorded_customer_minutes: float
    customer_minutes: float
    change: float | None = Field(description="customer_minutes / recorded ones, less one")
    jobs: list[ReplayedJobOut]
    restored_without_crew: int = Field(
        description="Outages no crew's job ended: their recorded times stand"
    )
    unplaced_jobs: int = Field(
        description="Crews' jobs at no known place: not replayed, their recorded times stand"
    )


def _percent(share: float | None) -> str:
    return "" if share is None else f"{share:.4f}"


def after_action_csv(report: AfterAction) -> str:
    """The report in one long table: `section, item, measure, value`, a row per figure.

    Sections: `period` (start, end, as_of, the storm), `timeline` (item: the hour's start;
    customers_out, opened, restored), `crew` (item: the crew's name; shift_hours,
    job_hours, utilisation), `etr` (item `all`: the accuracy figures), `etr_first` (item:
    the incident; etr, latest, restored_at, error_minutes, covered), `etr_lapse` (item: the
    incident; told_at, deadline), `told` (item `all`) and `notifications` (item:
    `kind/channel`; sent)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "item", "measure", "value"])

    def row(section: str, item: object, measure: str, value: object) -> None:
        writer.writerow([section, cell(item), measure, cell(value)])

    row("period", "all", "start", report.start)
    row("period", "all", "end", report.end)
    row("period", "all", "as_of", report.as_of)
    if report.storm is not None:
        row("period", "all", "storm_id", report.storm.id)
        row("period", "all", "storm_name", report.storm.name)
        row("period", "all", "storm_level", report.storm.level)
    for hour in report.timeline:
        row("timeline", hour.at, "customers_out", hour.customers_out)
        row("timeline", hour.at, "opened", hour.opened)
        row("timeline", hour.at, "restored", hour.restored)
    for crew in report.crews:
        row("crew", crew.name, "shift_hours", crew.shift_hours)
        row("crew", crew.name, "job_hours", crew.job_hours)
        row("crew", crew.name, "utilisation", _percent(crew.utilisation))
    etr = report.etr
    for measure in ("restored", "told", "median_abs_error_minutes", "ranged", "covered"):
        row("etr", "all", measure, getattr(etr, measure))
    row("etr", "all", "coverage", _percent(etr.coverage))
    row("etr", "all", "lapses", len(etr.lapses))
    row("etr", "all", "lapsed_incidents", etr.lapsed_incidents)
    for first in etr.firsts:
        for measure in ("told_at", "etr", "latest", "restored_at", "error_minutes", "covered"):
            row("etr_first", first.incident_id, measure, getattr(first, measure))
    for lapse in etr.lapses:
        row("etr_lapse", lapse.incident_id, "told_at", lapse.told_at)
        row("etr_lapse", lapse.incident_id, "deadline", lapse.deadline)
    told = report.told
    for measure in ("outages", "customers_affected", "customers_told"):
        row("told", "all", measure, getattr(told, measure))
    row("told", "all", "share", _percent(told.share))
    for count in report.notifications:
        row("notifications", f"{count.kind.value}/{count.channel.value}", "sent", count.sent)
    return out.getvalue()


def replay_csv(found: Replay) -> str:
    """The replay in one long table, as the report's: `replay` (item `all`: the period,
    the rule, the crews and the customer-minutes) and `job` (item: the incident;
    customers, recorded_crew_id, recorded_at, crew_id, replayed_at)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "item", "measure", "value"])
    summary = (
        "start",
        "end",
        "as_of",
        "storm_id",
        "policy",
        "recorded_crews",
        "crews",
        "recorded_customer_minutes",
        "customer_minutes",
        "change",
        "restored_without_crew",
        "unplaced_jobs",
    )
    for measure in summary:
        writer.writerow(["replay", "all", measure, cell(getattr(found, measure))])
    for job in found.jobs:
        for measure in ("customers", "recorded_crew_id", "recorded_at", "crew_id", "replayed_at"):
            writer.writerow(["job", cell(job.incident_id), measure, cell(getattr(job, measure))])
    return out.getvalue()


# The published figures (`outage.reliability.transparency`)


class AreaMonthOut(_Out):
    area: str | None = Field(description="A region (substation); null for the whole system.")
    month: str = Field(description="YYYY-MM.")
    customers_served: int
    saidi: float = Field(description="Unplanned minutes without supply per customer served.")
    saifi: float = Field(description="Unplanned sustained interruptions per customer served.")
    saidi_without_med: float = Field(description="SAIDI without Major Event Days.")
    saifi_without_med: float = Field(description="SAIFI without Major Event Days.")
    planned_saidi: float = Field(description="Planned minutes without supply per customer.")
    planned_saifi: float = Field(description="Planned interruptions per customer.")
    caidi: float | None = Field(description="Average minutes to restore a customer.")
    caidi_without_med: float | None = Field(description="CAIDI without Major Event Days.")
    customer_interruptions: int = Field(description="Unplanned sustained interruptions.")
    major_event_days: list[date] = Field(description="The month's Major Event Days.")


class TypeMonthOut(_Out):
    type: str = Field(description="The service request type.")
    month: str = Field(description="YYYY-MM.")
    received: int
    closed: int
    closed_within_sla: int
    share_within_sla: float | None = Field(description="Of those closed; null when none was.")
    median_hours_to_close: float | None
    ratings: int
    mean_rating: float | None = Field(description="1 to 5; null without a rating.")


class FiguresOut(_Out):
    first_month: str = Field(description="YYYY-MM, the first month published.")
    last_month: str = Field(description="YYYY-MM, the last (complete) month published.")
    as_of: datetime
    t_med: float | None = Field(
        description="The Major Event Day threshold, minutes per customer in a day (2.5 beta "
        "method, from the five years before the first month); null without enough history."
    )
    system: list[AreaMonthOut]
    areas: list[AreaMonthOut] = Field(description="Each region with customers, month by month.")
    care: list[TypeMonthOut]

    @classmethod
    def of(cls, figures: Figures) -> "FiguresOut":
        def area(row: AreaMonth) -> AreaMonthOut:
            return AreaMonthOut.model_validate(
                {
                    **_fields(row),
                    "month": f"{row.month:%Y-%m}",
                    "major_event_days": list(row.major_event_days),
                }
            )

        def kind(row: TypeMonth) -> TypeMonthOut:
            return TypeMonthOut.model_validate(
                {
                    **_fields(row),
                    "type": row.type.value,
                    "month": f"{row.month:%Y-%m}",
                    "share_within_sla": row.share_within_sla,
                }
            )

        return cls(
            first_month=f"{figures.first_month:%Y-%m}",
            last_month=f"{figures.last_month:%Y-%m}",
            as_of=figures.as_of,
            t_med=figures.t_med,
            system=[area(row) for row in figures.system],
            areas=[area(row) for row in figures.areas],
            care=[kind(row) for row in figures.care],
        )


def _fields(row: AreaMonth | TypeMonth) -> dict[str, object]:
    return {f.name: getattr(row, f.name) for f in fields(row)}


def figures_csv(figures: Figures, table: str) -> str:
    """`reliability`: one row per area and month (the system's rows with an empty area);
    `care`: one row per request type and month."""
    out_model: type[BaseModel] = AreaMonthOut if table == "reliability" else TypeMonthOut
    columns = list(out_model.model_fields)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    published = FiguresOut.of(figures)
    rows: list[BaseModel] = (
        [*published.system, *published.areas] if table == "reliability" else [*published.care]
    )
    for row in rows:
        values = row.model_dump()
        writer.writerow(
            [
                " ".join(d.isoformat() for d in value) if isinstance(value, list) else cell(value)
                for value in (values[column] for column in columns)
            ]
        )
    return out.getvalue()
