"""The after-action report's page: how a storm or a period went, for the supervisor.

The figures are `outage.reliability.after_action`'s; the charts are SVG drawn on the
server (`outage.pages.charts`, drawn by `supervisor_charts.html`), as on the dashboard:
customers out hour by hour, outages opened and restored, crew hours on shift and on jobs,
and the first ETRs' errors. A form picks the period (days) or a storm; without one the
page shows the last `DEFAULT_SPAN`. A period the report refuses is said on the page
(status 422), an unknown storm too (404). Every text is escaped by Jinja's autoescape.

Below the report, a second form replays the same period or storm
(`outage.reliability.replay`) with another number of crews or the planner's rule; the
replay is run only when the query asks for it (`replay_crews` or `replay_policy`), as it
takes time. Replay options the page does not take are said on the page (422), with the
report still shown.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from dispatch.replay import Policy
from dispatch.travel import TravelTime
from outage import clock, i18n
from outage.crews.planning import PlanSettings
from outage.errors import DomainError, NotFound
from outage.i18n import Language
from outage.pages import charts
from outage.pages.staff import staff_page
from outage.reliability import after_action as aar
from outage.reliability import replay
from outage.reliability.service import InvalidPeriod, Moment
from outage.storms import service as storms
from outage.storms.enums import StormPhase
from outage.web.deps import SessionDep, SettingsDep
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import local_moment, request_language

DEFAULT_SPAN = timedelta(hours=24)
"""The page's period when none is asked for: the last day, up to now."""
HOUR_LABELS = 12
"""At most this many hours are named under the hourly charts."""
ERROR_BANDS = (-60.0, -15.0, 15.0, 60.0)
"""The first ETRs' errors (minutes, late positive) are counted in the bands these bound:
over an hour early, 15 to 60 minutes early, within 15 minutes, 15 to 60 late, over an
hour late."""
STORMS_LISTED = 20

router = APIRouter(include_in_schema=False, tags=["supervisor pages"])


LABEL_STEPS = (1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336)
"""Hours between the hours named under the hourly charts: the first that names at most
`HOUR_LABELS` of them."""


def hour_labels(hours: Sequence[datetime]) -> list[str]:
    """The names under an hourly chart of these local hours: some hours named, the others
    blank; by the time of day while a step is under a day, else by the date."""
    step = next((s for s in LABEL_STEPS if len(hours) <= s * HOUR_LABELS), LABEL_STEPS[-1])
    shown = "%d/%m" if step >= 24 else "%H:%M"
    return [f"{at:{shown}}" if i % step == 0 else "" for i, at in enumerate(hours)]


def _named(chart: charts.Chart, names: Sequence[str]) -> charts.Chart:
    """The chart with its categories named `names`: the points keep their full labels."""
    return dataclasses.replace(
        chart,
        categories=tuple(
            dataclasses.replace(c, label=name)
            for c, name in zip(chart.categories, names, strict=True)
        ),
    )


def error_bands(errors: Sequence[float]) -> list[int]:
    """How many errors fall in each band of `ERROR_BANDS` (a bound belongs to the band
    nearer to zero)."""
    counts = [0] * (len(ERROR_BANDS) + 1)
    for error in errors:
        if error < ERROR_BANDS[0]:
            counts[0] += 1
        elif error < ERROR_BANDS[1]:
            counts[1] += 1
        elif error <= ERROR_BANDS[2]:
            counts[2] += 1
        elif error <= ERROR_BANDS[3]:
            counts[3] += 1
        else:
            counts[4] += 1
    return counts


def _percent(share: float | None, t: Mapping[str, str]) -> str:
    return t["supervisor_not_applicable"] if share is None else f"{share:.0%}"


def _context(
    report: aar.AfterAction, language: Language, zone: tzinfo, now: datetime
) -> dict[str, Any]:
    t = i18n.strings(language)
    local = [h.at.astimezone(zone) for h in report.timeline]
    hours = [f"{at:%d/%m %H:%M}" for at in local]
    names = hour_labels(local)
    etr = report.etr
    crews = report.crews
    return {
        "period": {
            "start": local_moment(report.start, language, zone, now),
            "end": local_moment(report.end, language, zone, now),
            "as_of": local_moment(report.as_of, language, zone, now),
            "open": report.end >= report.as_of,
        },
        "storm": report.storm,
        "marks": [
            {
                "at": local_moment(mark.at, language, zone, now),
                "action": i18n.label(language, "storm_action", mark.action),
                "level": (
                    t["after_action_mark_level"].format(level=mark.level)
                    if mark.level is not None
                    else None
                ),
                "phase": (
                    i18n.label(language, "storm_phase", mark.phase)
                    if mark.phase in set(StormPhase)
                    else None
                ),
            }
            for mark in (report.storm.marks if report.storm else ())
        ],
        "timeline_chart": _named(
            charts.line_chart(hours, [[h.customers_out for h in report.timeline]], counts=True),
            names,
        ),
        "flow_chart": _named(
            charts.bar_chart(
                hours,
                [[h.opened for h in report.timeline], [h.restored for h in report.timeline]],
                counts=True,
            ),
            names,
        ),
        "peak": max((h.customers_out for h in report.timeline), default=0),
        "opened": sum(h.opened for h in report.timeline),
        "restored": sum(h.restored for h in report.timeline),
        "crews": [
            {
                "name": c.name,
                "shift": f"{c.shift_hours:.1f}",
                "jobs": f"{c.job_hours:.1f}",
                "share": c.utilisation,
                "share_text": _percent(c.utilisation, t),
            }
            for c in crews
        ],
        "crews_chart": (
            charts.bar_chart(
                [c.name for c in crews],
                [[c.shift_hours for c in crews], [c.job_hours for c in crews]],
                decimals=0,
                value_decimals=1,
            )
            if crews
            else None
        ),
        "etr": etr,
        "etr_error": (
            t["after_action_minutes"].format(minutes=f"{etr.median_abs_error_minutes:.0f}")
            if etr.median_abs_error_minutes is not None
            else t["supervisor_not_applicable"]
        ),
        "etr_coverage": _percent(etr.coverage, t),
        "errors_chart": (
            charts.bar_chart(
                [t[f"after_action_band_{i}"] for i in range(len(ERROR_BANDS) + 1)],
                [error_bands([f.error_minutes for f in etr.firsts])],
                counts=True,
            )
            if etr.firsts
            else None
        ),
        "lapses": [
            {
                "incident": lapse.incident_id,
                "told": local_moment(lapse.told_at, language, zone, now),
                "deadline": local_moment(lapse.deadline, language, zone, now),
            }
            for lapse in etr.lapses
        ],
        "told": report.told,
        "told_share": _percent(report.told.share, t),
        "notifications": [
            {
                "kind": i18n.label(language, "notification_kind", n.kind),
                "channel": i18n.label(language, "delivery_channel", n.channel),
                "sent": n.sent,
            }
            for n in report.notifications
        ],
    }


def refusal_text(refusal: DomainError, t: Mapping[str, str]) -> str:
    """Why the report was refused, in the reader's words: an unknown storm, a period the
    report does not take, or a form not filled in."""
    if isinstance(refusal, NotFound):
        return t["after_action_refused_storm"]
    if isinstance(refusal, InvalidPeriod):
        return t["after_action_refused_period"]
    return t["after_action_refused_input"]


def _day(value: str | None) -> date | None:
    """A day from the form; None when blank or not a day (the report then says why)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True)
class _Asked:
    """The period or storm the form asks for, as the report (and its replay) take it."""

    start: Moment | None = None
    end: Moment | None = None
    storm: int | None = None


def _asked(now: datetime, start: str | None, end: str | None, storm: str | None) -> _Asked:
    if storm:
        if not (storm.isascii() and storm.isdigit()) or len(storm) > 9:
            raise aar.InvalidAfterAction(f"no storm {storm!r}")
        return _Asked(storm=int(storm))
    if not start and not end:
        return _Asked(start=now - DEFAULT_SPAN, end=now)
    first, last = _day(start), _day(end)
    if first is None or last is None:
        raise aar.InvalidAfterAction("give the first and the last day (YYYY-MM-DD)")
    return _Asked(start=first, end=last)


# The replay


class InvalidReplay(aar.InvalidAfterAction):
    """Replay options the page does not take; `option` says which (the page's words for it)."""

    option: ClassVar[str] = "crews"


class InvalidReplayPolicy(InvalidReplay):
    option = "policy"


def replay_options(crews: str | None, policy: str | None) -> tuple[int | None, Policy]:
    """The replay's crews (None, the recorded ones, when left blank) and rule from the
    form (the recorded rule when left out); an `InvalidReplay` when the crews are not a
    whole number from 0 to `replay.MAX_CREWS` or the rule is unknown."""
    if policy and policy not in set(Policy):
        raise InvalidReplayPolicy(f"no replay policy {policy!r}")
    rule = Policy(policy) if policy else Policy.RECORDED
    text = (crews or "").strip()
    if not text:
        return None, rule
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) > replay.MAX_CREWS:
        raise InvalidReplay(f"a replay takes 0 to {replay.MAX_CREWS} crews")
    return int(text), rule


def replay_crew_text(crew_id: int | None, t: Mapping[str, str]) -> str:
    """A crew of the replay by its id; an added crew (negative id) by its number."""
    if crew_id is None:
        return t["after_action_replay_no_crew"]
    if crew_id < 0:
        return t["after_action_replay_added_crew"].format(number=-crew_id)
    return str(crew_id)


def _signed_percent(change: float | None, t: Mapping[str, str]) -> str:
    if change is None:
        return t["supervisor_not_applicable"]
    return "0%" if change == 0 else f"{change:+.1%}"


def _replay_context(
    session: Session,
    travel: TravelTime,
    asked: _Asked,
    crews: str | None,
    policy: str | None,
    *,
    recorded_crews: int,
    language: Language,
    zone: tzinfo,
    now: datetime,
) -> tuple[dict[str, Any], int]:
    """The replay section's values and the page's status: its form always; the replay of
    the report's period or storm only when the query asks for one (`crews` or `policy`
    given), or why its options are refused (422)."""
    t = i18n.strings(language)
    context: dict[str, Any] = {
        "form": {"crews": crews or "", "placeholder": recorded_crews, "most": replay.MAX_CREWS},
        "policies": [
            {
                "value": rule.value,
                "label": i18n.label(language, "replay_policy", rule),
                "selected": rule.value == (policy or Policy.RECORDED.value),
            }
            for rule in Policy
        ],
        "result": None,
        "refusal": None,
    }
    if crews is None and policy is None:
        return context, 200
    try:
        count, rule = replay_options(crews, policy)
        found = replay.after_action_replay(
            session,
            travel=travel,
            start=asked.start,
            end=asked.end,
            storm=asked.storm,
            crews=count,
            policy=rule,
            zone=zone,
            as_of=now,
        )
    except InvalidReplay as refusal:
        most = replay.MAX_CREWS
        context["refusal"] = t[f"after_action_replay_refused_{refusal.option}"].format(most=most)
        return context, refusal.status
    except DomainError as refusal:
        context["refusal"] = refusal_text(refusal, t)
        return context, refusal.status
    context["form"]["placeholder"] = found.recorded_crews
    context["result"] = {
        "recorded_minutes": f"{found.recorded_customer_minutes:,.0f}",
        "minutes": f"{found.customer_minutes:,.0f}",
        "change": _signed_percent(found.change, t),
        "recorded_crews": found.recorded_crews,
        "crews": found.crews,
        "kept": found.restored_without_crew,
        "jobs": [
            {
                "incident": job.incident_id,
                "customers": job.customers,
                "recorded_crew": replay_crew_text(job.recorded_crew_id, t),
                "recorded_at": local_moment(job.recorded_at, language, zone, now),
                "crew": replay_crew_text(job.crew_id, t),
                "replayed_at": (
                    local_moment(job.replayed_at, language, zone, now)
                    if job.replayed_at is not None
                    else None
                ),
            }
            for job in found.jobs
        ],
    }
    return context, 200


@router.get(
    "/after-action",
    response_class=HTMLResponse,
    dependencies=[Depends(require("reports.after_action", page=True))],
)
def after_action_page(
    request: Request,
    session: SessionDep,
    config: SettingsDep,
    staff: PrincipalDep,
    lang: str | None = None,
    start: str | None = None,
    end: str | None = None,
    storm: str | None = None,
    replay_crews: str | None = None,
    replay_policy: str | None = None,
) -> HTMLResponse:
    """The after-action report of a storm or a period, with its charts, and its replay
    when asked for."""
    language = request_language(request, lang)
    zone = config.local_timezone
    now = clock.now()
    context: dict[str, Any] = {
        "form": {"start": start or "", "end": end or "", "storm": storm or ""},
        "storms": storms.list_storms(session, limit=STORMS_LISTED),
        "report": None,
        "refusal": None,
        "replay": None,
    }
    status = 200
    try:
        asked = _asked(now, start, end, storm)
        report = aar.after_action(
            session, start=asked.start, end=asked.end, storm=asked.storm, zone=zone, as_of=now
        )
    except DomainError as refusal:
        context["refusal"] = refusal_text(refusal, i18n.strings(language))
        status = refusal.status
    else:
        context["report"] = _context(report, language, zone, now)
        context["replay"], status = _replay_context(
            session,
            PlanSettings.from_settings(config).travel,
            asked,
            replay_crews,
            replay_policy,
            recorded_crews=len(report.crews),
            language=language,
            zone=zone,
            now=now,
        )
    params = {
        k: v
        for k, v in (
            ("start", start),
            ("end", end),
            ("storm", storm),
            ("replay_crews", replay_crews),
            ("replay_policy", replay_policy),
        )
        if v
    }
    return staff_page(
        "after_action.html",
        language,
        context,
        path="/after-action",
        params=params,
        staff=staff,
        status_code=status,
    )
