"""The after-action replay on the ten-customer grid: crews' jobs read from the audit
trail, replayed, and turned back into customer-minutes, in a rolled-back session."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from dispatch.model import Skill
from dispatch.replay import Policy
from dispatch.travel import GreatCircleTravel
from outage.incidents.enums import AuditAction
from outage.incidents.models import IncidentEvent
from outage.reliability.after_action import InvalidAfterAction, TrailStep
from outage.reliability.records import IncidentHistory, Step, StepKind, interruptions_of
from outage.reliability.replay import (
    MAX_CREWS,
    RecordedJob,
    Replay,
    after_action_replay,
    crews_work,
    customer_minutes,
    recorded_job,
    replayed_history,
    resized,
)
from tests.conftest import make_crew

from .conftest import outage, restore

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
GRID = (106.70, 10.77)
"""The ten-customer grid's place: the crews' depot."""
DAY = {"start": datetime(2025, 3, 10, tzinfo=ZONE), "end": datetime(2025, 3, 11, tzinfo=ZONE)}


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, 10, hour, minute, tzinfo=ZONE)


def replayed(session: Session, **options: Any) -> Replay:
    return after_action_replay(
        session,
        travel=GreatCircleTravel(),
        zone=ZONE,
        start=DAY["start"],
        end=DAY["end"],
        **options,
    )


def crew(session: Session) -> int:
    return make_crew(
        session,
        depot=GRID,
        skills=(Skill.OVERHEAD_LINE, Skill.SUBSTATION),
        shifts=[{"starts_at": local(6), "ends_at": local(22)}],
    )


def worked(
    session: Session,
    incident: int,
    crew_id: int,
    opened: datetime,
    set_off: datetime,
    arrived: datetime,
    restored: datetime,
) -> None:
    """The trail of a crew's job: known, sent, on its way, on site, restored."""
    for action, at in (
        (AuditAction.OPENED, opened),
        (AuditAction.ASSIGNED, set_off),
        (AuditAction.EN_ROUTE, set_off),
        (AuditAction.ON_SITE, arrived),
    ):
        details = {} if action is AuditAction.OPENED else {"crew_id": crew_id}
        session.add(
            IncidentEvent(incident_id=incident, actor="t", action=action, at=at, details=details)
        )
    session.flush()
    restore(session, incident, restored)


def test_the_recorded_crews_give_back_the_recorded_customer_minutes(session: Session) -> None:
    first, second = crew(session), crew(session)
    fuse_a = outage(session, "FU-A", local(8))
    fuse_b = outage(session, "FU-B", local(8, 5))
    feeder_2 = outage(session, "BR-2", local(8, 10))
    worked(session, fuse_a, first, local(8), local(8, 20), local(8, 40), local(9, 30))
    worked(session, fuse_b, first, local(8, 5), local(9, 45), local(9, 50), local(10, 20))
    worked(session, feeder_2, second, local(8, 10), local(8, 15), local(8, 35), local(11))
    found = replayed(session)
    assert found.recorded_customer_minutes == 4 * 90 + 3 * 135 + 3 * 170
    assert found.customer_minutes == found.recorded_customer_minutes
    assert [(j.crew_id, j.replayed_at) for j in found.jobs] == [
        (j.recorded_crew_id, j.recorded_at) for j in found.jobs
    ]
    assert (found.recorded_crews, found.crews, found.change) == (2, 2, 0.0)


def test_an_outage_restored_without_a_crew_keeps_its_time(session: Session) -> None:
    restore(session, outage(session, "FU-A", local(8)), local(8, 30))
    found = replayed(session, crews=0)
    assert (found.restored_without_crew, found.jobs) == (1, ())
    assert found.customer_minutes == found.recorded_customer_minutes == 4 * 30


def test_an_added_crew_takes_the_job_the_busy_crew_had_not_set_off_for(session: Session) -> None:
    only = crew(session)
    fuse_a = outage(session, "FU-A", local(8))
    feeder_2 = outage(session, "BR-2", local(8))
    worked(session, fuse_a, only, local(8), local(8), local(8, 30), local(9, 30))
    worked(session, feeder_2, only, local(8), local(9, 30), local(10), local(11))
    found = replayed(session, crews=2)
    job = next(j for j in found.jobs if j.incident_id == feeder_2)
    assert job.crew_id == -1
    assert job.replayed_at is not None and job.replayed_at < job.recorded_at
    assert found.customer_minutes < found.recorded_customer_minutes


def test_with_no_crews_a_crews_outage_stays_out_to_the_periods_end(session: Session) -> None:
    only = crew(session)
    fuse_a = outage(session, "FU-A", local(8))
    worked(session, fuse_a, only, local(8), local(8), local(8, 30), local(9))
    found = replayed(session, crews=0)
    assert found.jobs[0].replayed_at is None
    assert found.customer_minutes == 4 * (24 - 8) * 60


def test_the_planners_rule_sends_the_crew_to_the_most_customers_first(session: Session) -> None:
    only = crew(session)
    fuse_b = outage(session, "FU-B", local(8))
    feeder_1 = outage(session, "BR-1", local(8))
    worked(session, fuse_b, only, local(8), local(8), local(8, 30), local(9))
    worked(session, feeder_1, only, local(8), local(9), local(9, 30), local(10))
    found = replayed(session, policy=Policy.PLANNER)
    order = sorted(found.jobs, key=lambda j: j.replayed_at or local(23))
    assert [j.incident_id for j in order] == [feeder_1, fuse_b]
    assert found.customer_minutes < found.recorded_customer_minutes


def test_a_replay_with_too_many_crews_is_refused(session: Session) -> None:
    with pytest.raises(InvalidAfterAction, match="crews"):
        replayed(session, crews=MAX_CREWS + 1)


def test_a_job_finished_after_the_period_is_not_replayed(session: Session) -> None:
    only = crew(session)
    late = outage(session, "FU-A", local(23))
    next_day = local(23) + timedelta(hours=2)
    worked(session, late, only, local(23), local(23), local(23, 30), next_day)
    assert replayed(session).jobs == ()


def job(set_off: datetime, finished: datetime) -> RecordedJob:
    return RecordedJob(1, set_off, set_off, set_off, finished, restored=True)


def test_a_job_its_crew_left_for_another_before_it_was_finished_is_not_the_crews() -> None:
    recorded = {
        1: job(local(8), local(10)),  # its crew set off for 2 at 9: 1 ended by something else
        2: job(local(9), local(9, 30)),
        3: job(local(9, 30), local(11)),
    }
    assert crews_work(recorded) == {1: [2, 3]}


def test_a_plans_assignment_cancelled_before_the_crew_set_off_is_no_job() -> None:
    trail = [
        TrailStep(local(8), AuditAction.OPENED, None),
        TrailStep(local(8, 5), AuditAction.ASSIGNED, crew_id=1),
        TrailStep(local(8, 30), AuditAction.CANCELLED, None),
    ]
    assert recorded_job(trail) is None


def test_an_assigned_crews_restoration_is_its_job_from_the_assignment() -> None:
    trail = [
        TrailStep(local(8), AuditAction.OPENED, None),
        TrailStep(local(8, 5), AuditAction.ASSIGNED, crew_id=1),
        TrailStep(local(9), AuditAction.RESTORED, None, restored_at=local(8, 50)),
    ]
    assert recorded_job(trail) == RecordedJob(
        1, local(8), local(8, 5), local(8, 5), local(8, 50), restored=True
    )


def test_a_plans_assignment_that_switching_restored_is_not_the_crews_job() -> None:
    trail = [
        TrailStep(local(10, 5), AuditAction.OPENED, None),
        TrailStep(local(10, 6), AuditAction.ASSIGNED, 7, by_planner=True),
        TrailStep(local(10, 30), AuditAction.RESTORED, None, restored_at=local(10, 30)),
    ]
    assert recorded_job(trail) is None


def test_a_reopened_outage_replayed_at_its_first_restoration_keeps_its_second_interruption() -> (
    None
):
    history = IncidentHistory(
        event="incident/1",
        started_at=local(10),
        accounts=frozenset({"A1", "A2"}),
        steps=(
            Step(StepKind.RESTORED, local(11)),
            Step(StepKind.SETBACK, local(12)),
            Step(StepKind.RESTORED, local(14)),
        ),
    )
    recorded = interruptions_of(history, as_of=local(23))
    replayed = interruptions_of(replayed_history(history, local(11)), as_of=local(23))
    start, end = DAY["start"], DAY["end"]
    assert customer_minutes(replayed, start, end) == customer_minutes(recorded, start, end) == 360


def test_added_crews_with_none_to_copy_are_none() -> None:
    assert resized([], 3, {}) == []
