"""The replay of the field work on small hand-built records.

Places are kilometres on a plane (`KmTravel`: one minute per kilometre), and times are
minutes from `START`, so the times are easy to work out by hand.
"""

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.model import Crew, Job, Skill
from dispatch.replay import (
    Done,
    FieldCrew,
    FieldJob,
    Policy,
    Replayed,
    Span,
    recorded_lags,
    replay,
)
from grid_topology.model import Coordinate
from tests.dispatch.km_travel import KmTravel

START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
S = Skill


TRAVEL = KmTravel()


def t(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def shift(from_min: float, to_min: float) -> Span:
    return (t(from_min), t(to_min))


ALL_DAY = (shift(-60, 24 * 60),)


def field_job(
    id: int,
    at: Coordinate,
    known_min: float,
    work_min: float,
    travel_min: float | None = None,
    origin: Coordinate | None = None,
    lag_min: float = 0,
    customers: int = 10,
    skills: Iterable[Skill] = (S.OVERHEAD_LINE,),
) -> FieldJob:
    return FieldJob(
        job=Job(
            id=id,
            location=at,
            repair_s=work_min * 60,
            skills=frozenset(skills),
            customers=customers,
        ),
        known_at=t(known_min),
        work_s=work_min * 60,
        travel_s=None if travel_min is None else travel_min * 60,
        origin=origin,
        lag_s=lag_min * 60,
    )


def field_crew(
    id: int,
    at: Coordinate,
    jobs: Sequence[int] = (),
    shifts: tuple[Span, ...] = ALL_DAY,
    skills: Iterable[Skill] = (S.OVERHEAD_LINE,),
) -> FieldCrew:
    return FieldCrew(
        crew=Crew(
            id=id,
            skills=frozenset(skills),
            shift_start=t(-60),
            shift_end=t(24 * 60),
            depot=at,
        ),
        shifts=shifts,
        jobs=tuple(jobs),
    )


def done(job_id: int, crew_id: int, set_off: float, arrived: float, finished: float) -> Done:
    """A replayed job, its times in minutes from `START`."""
    return Done(job_id, crew_id, t(set_off), t(arrived), t(finished))


def run(
    jobs: Sequence[FieldJob], crews: Sequence[FieldCrew], policy: Policy = Policy.RECORDED
) -> Replayed:
    return replay(jobs, crews, TRAVEL, start=START, policy=policy)


def customer_minutes(result: Replayed, jobs: Sequence[FieldJob]) -> float:
    """Customers out times the minutes from when each job was known to when it was done."""
    finished = result.finished()
    return sum(
        j.job.customers * (finished[j.job.id] - j.known_at).total_seconds() / 60 for j in jobs
    )


# A record: per crew, where it set off from at the start and its jobs in order as
# (job, place, known, set off, arrived, finished), times in minutes from START. The drives
# differ from the travel model's (a road closed, a detour), and the crews set off late.
STARTS: dict[int, Coordinate] = {1: (0, 0), 2: (20, 0)}
RECORD: dict[int, list[tuple[int, Coordinate, float, float, float, float]]] = {
    1: [
        (1, (10, 0), 0, 5, 17, 77),  # 12 minutes' drive for the model's 10
        (2, (10, 5), 20, 80, 87, 117),  # 3 minutes after the crew was free
        (3, (0, 5), 130, 135, 147, 187),  # known after the crew was free
    ],
    2: [
        (4, (20, 10), -10, 0, 10, 55),  # known before the start
        (5, (30, 0), 10, 70, 86, 146),  # 15 minutes after the crew was free
    ],
}


def recorded_jobs(
    record: Mapping[int, Sequence[tuple[int, Coordinate, float, float, float, float]]],
    starts: Mapping[int, Coordinate],
) -> list[FieldJob]:
    """The record read as the after-action replay reads it."""
    lags = recorded_lags(
        {
            crew: [(j, t(known), t(off), t(finished)) for j, _, known, off, _, finished in seq]
            for crew, seq in record.items()
        },
        START,
    )
    jobs = []
    for crew, seq in record.items():
        origin = starts[crew]
        for job_id, at, known, set_off, arrived, finished in seq:
            jobs.append(
                field_job(
                    job_id,
                    at,
                    known_min=known,
                    work_min=finished - arrived,
                    travel_min=arrived - set_off,
                    origin=origin,
                    lag_min=lags[job_id] / 60,
                )
            )
            origin = at
    return jobs


def test_the_recorded_crews_give_back_the_recorded_times() -> None:
    jobs = recorded_jobs(RECORD, STARTS)
    crews = [field_crew(c, STARTS[c], jobs=[j for j, *_ in seq]) for c, seq in RECORD.items()]
    result = run(jobs, crews)
    recorded = {
        job_id: done(job_id, crew, set_off, arrived, finished)
        for crew, seq in RECORD.items()
        for job_id, _, _, set_off, arrived, finished in seq
    }
    assert result.finished() == {job_id: d.finished for job_id, d in recorded.items()}
    assert {d.job_id: d for d in result.done} == recorded
    assert result.undone == ()


def test_done_jobs_are_in_the_order_they_were_finished() -> None:
    jobs = recorded_jobs(RECORD, STARTS)
    crews = [field_crew(c, STARTS[c], jobs=[j for j, *_ in seq]) for c, seq in RECORD.items()]
    result = run(jobs, crews)
    assert [d.job_id for d in result.done] == [4, 1, 2, 5, 3]


def test_a_drive_from_another_place_adds_the_models_difference() -> None:
    # Recorded: 12 minutes from (5, 0), 5 km away. From (0, 0), 10 km away: 5 more.
    jobs = [field_job(1, (10, 0), 0, 30, travel_min=12, origin=(5, 0))]
    result = run(jobs, [field_crew(1, (0, 0), jobs=[1])])
    assert result.done == (done(1, 1, 0, 17, 47),)


def test_a_drive_from_a_nearer_place_saves_the_models_difference() -> None:
    # Recorded: 12 minutes from (0, 0), 10 km away. From (5, 0), 5 km away: 5 fewer.
    jobs = [field_job(1, (10, 0), 0, 30, travel_min=12, origin=(0, 0))]
    result = run(jobs, [field_crew(1, (5, 0), jobs=[1])])
    assert result.done == (done(1, 1, 0, 7, 37),)


def test_a_drive_never_takes_less_than_no_time() -> None:
    # Recorded: 3 minutes from 5 km away, the model's 5. From the place itself: 3 - 5 < 0.
    jobs = [field_job(1, (10, 0), 0, 30, travel_min=3, origin=(5, 0))]
    result = run(jobs, [field_crew(1, (10, 0), jobs=[1])])
    assert result.done == (done(1, 1, 0, 0, 30),)


def test_a_recorded_drive_without_its_origin_is_taken_as_it_is() -> None:
    jobs = [field_job(1, (10, 0), 0, 30, travel_min=12)]
    result = run(jobs, [field_crew(1, (0, 0), jobs=[1])])
    assert result.done == (done(1, 1, 0, 12, 42),)


def test_a_job_with_no_recorded_drive_takes_the_models() -> None:
    # From (0, 0) to (3, 4): 5 km, 5 minutes, whatever the origin says.
    jobs = [field_job(1, (3, 4), 0, 30, travel_min=None, origin=(50, 50))]
    result = run(jobs, [field_crew(1, (0, 0), jobs=[1])])
    assert result.done == (done(1, 1, 0, 5, 35),)


def test_a_crew_sets_off_the_recorded_lag_after_the_job_is_known() -> None:
    jobs = [field_job(1, (10, 0), 20, 30, lag_min=7)]
    result = run(jobs, [field_crew(1, (0, 0), jobs=[1])])
    assert result.done == (done(1, 1, 27, 37, 67),)


# Crew 1 at (0, 0) did jobs 1, 2 and 3, all known at the start: job 2 (the most customers)
# 20 minutes after it was free of job 1, job 3 5 minutes after it was free of job 2.
ONE_CREW_JOBS = [
    field_job(1, (10, 0), 0, 60, travel_min=10, origin=(0, 0), customers=10),
    field_job(2, (20, 0), 0, 60, travel_min=10, origin=(10, 0), lag_min=20, customers=100),
    field_job(3, (5, 0), 0, 20, travel_min=15, origin=(20, 0), lag_min=5, customers=50),
]


def test_an_added_crew_takes_a_job_the_busy_crew_has_not_set_off_for() -> None:
    alone = run(ONE_CREW_JOBS, [field_crew(1, (0, 0), jobs=[1, 2, 3])])
    assert alone.done == (
        done(1, 1, 0, 10, 70),
        done(2, 1, 90, 100, 160),
        done(3, 1, 165, 180, 200),
    )
    # Crew 2, added at job 2's place, takes it at once (after its lag); crew 1 goes from
    # job 1 on to job 3, 5 km away instead of the 15 km from job 2.
    helped = run(ONE_CREW_JOBS, [field_crew(1, (0, 0), jobs=[1, 2, 3]), field_crew(2, (20, 0))])
    assert helped.done == (
        done(1, 1, 0, 10, 70),
        done(2, 2, 20, 20, 80),
        done(3, 1, 75, 80, 100),
    )
    assert customer_minutes(alone, ONE_CREW_JOBS) == 10 * 70 + 100 * 160 + 50 * 200
    assert customer_minutes(helped, ONE_CREW_JOBS) == 10 * 70 + 100 * 80 + 50 * 100


def test_a_job_a_crew_is_to_set_off_for_is_not_taken_from_it() -> None:
    # Crew 1 is free of job 1 at 70 and is to set off for job 2 at 90 (its lag). Crew 2's
    # shift starts at 75: job 2 is crew 1's, so crew 2 takes job 3 (set off at 80 after its
    # lag, 15 minutes' drive from where its recorded drive started).
    crews = [
        field_crew(1, (0, 0), jobs=[1, 2, 3]),
        field_crew(2, (20, 0), shifts=(shift(75, 600),)),
    ]
    result = run(ONE_CREW_JOBS, crews)
    assert result.done == (
        done(1, 1, 0, 10, 70),
        done(3, 2, 80, 95, 115),
        done(2, 1, 90, 100, 160),
    )


def test_a_removed_crews_jobs_go_to_the_crews_that_finish_their_own() -> None:
    # Crew 3, at (20, 10), did jobs 3 and 4; it is not in the replay.
    jobs = [
        field_job(1, (10, 0), 0, 20, travel_min=10, origin=(0, 0)),
        field_job(2, (30, 0), 0, 40, travel_min=10, origin=(40, 0)),
        field_job(3, (10, 10), 0, 30, travel_min=10, origin=(20, 10), customers=50),
        field_job(4, (30, 10), 0, 30, travel_min=20, origin=(10, 10), customers=20),
    ]
    crews = [field_crew(1, (0, 0), jobs=[1]), field_crew(2, (40, 0), jobs=[2])]
    result = run(jobs, crews)
    # Crew 1, free at 30 at (10, 0), takes job 3 (the most customers, 10 km away either
    # way); crew 2, free at 50 at (30, 0), takes job 4 (10 km away, recorded 20 from 20 km).
    assert result.done == (
        done(1, 1, 0, 10, 30),
        done(2, 2, 0, 10, 50),
        done(3, 1, 30, 40, 70),
        done(4, 2, 50, 60, 90),
    )
    assert result.undone == ()


def test_the_planner_starts_no_job_outside_a_crews_shifts() -> None:
    # On shift from 30 to 90 and from 120. Job 2 does not fit in the first shift after
    # job 1 (it would start at 110); job 1 runs over the shift's end, as a started job may.
    jobs = [
        field_job(1, (10, 0), 0, 60, customers=20),
        field_job(2, (20, 0), 0, 30, customers=10),
    ]
    crews = [field_crew(1, (0, 0), shifts=(shift(30, 90), shift(120, 600)))]
    result = run(jobs, crews, Policy.PLANNER)
    assert result.done == (
        done(1, 1, 30, 40, 100),
        done(2, 1, 120, 130, 160),
    )


def test_the_planner_does_not_follow_the_recorded_order() -> None:
    jobs = [
        field_job(1, (10, 0), 0, 30, customers=10),
        field_job(2, (-10, 0), 0, 30, customers=90),
    ]
    crews = [field_crew(1, (0, 0), jobs=[1, 2])]
    assert run(jobs, crews).done == (done(1, 1, 0, 10, 40), done(2, 1, 40, 60, 90))
    # The most customers first.
    assert run(jobs, crews, Policy.PLANNER).done == (
        done(2, 1, 0, 10, 40),
        done(1, 1, 40, 60, 90),
    )


@pytest.mark.parametrize("policy", list(Policy))
def test_a_job_no_crew_has_the_skills_for_is_undone(policy: Policy) -> None:
    jobs = [
        field_job(1, (10, 0), 0, 30),
        field_job(2, (5, 0), 0, 30, skills=(S.UNDERGROUND,), customers=500),
    ]
    result = run(jobs, [field_crew(1, (0, 0), skills=(S.OVERHEAD_LINE, S.VEGETATION))], policy)
    assert result.done == (done(1, 1, 0, 10, 40),)
    assert result.undone == (2,)


@pytest.mark.parametrize("policy", list(Policy))
def test_a_job_known_after_every_shift_has_ended_is_undone(policy: Policy) -> None:
    jobs = [field_job(1, (10, 0), 0, 30), field_job(2, (5, 0), 120, 30)]
    result = run(jobs, [field_crew(1, (0, 0), shifts=(shift(0, 90),))], policy)
    assert result.done == (done(1, 1, 0, 10, 40),)
    assert result.undone == (2,)


@pytest.mark.parametrize("policy", list(Policy))
def test_a_waiting_crew_is_woken_when_a_job_becomes_known(policy: Policy) -> None:
    jobs = [field_job(1, (10, 0), 45, 30)]
    result = run(jobs, [field_crew(1, (0, 0))], policy)
    assert result.done == (done(1, 1, 45, 55, 85),)


def random_record(rng: random.Random) -> tuple[list[FieldJob], list[FieldCrew]]:
    jobs = [
        field_job(
            i,
            (rng.uniform(0, 20), rng.uniform(0, 20)),
            known_min=rng.uniform(-30, 240),
            work_min=rng.uniform(10, 120),
            travel_min=rng.choice([None, rng.uniform(0, 40)]),
            origin=rng.choice([None, (rng.uniform(0, 20), rng.uniform(0, 20))]),
            lag_min=rng.choice([0, rng.uniform(0, 30)]),
            customers=rng.randint(0, 500),
            skills=rng.choice([(S.OVERHEAD_LINE,), (S.UNDERGROUND,)]),
        )
        for i in range(1, 21)
    ]
    ids = list(range(1, 21))
    rng.shuffle(ids)
    crews = [
        field_crew(
            c,
            (rng.uniform(0, 20), rng.uniform(0, 20)),
            jobs=ids[5 * (c - 1) : 5 * c] if c <= 3 else (),
            shifts=(shift(rng.uniform(-60, 60), rng.uniform(240, 480)), shift(600, 900)),
            skills=(S.OVERHEAD_LINE, S.UNDERGROUND) if c % 2 else (S.OVERHEAD_LINE,),
        )
        for c in range(1, 6)
    ]
    return jobs, crews


def test_a_waiting_crew_takes_the_job_a_crew_that_overran_can_no_longer_do() -> None:
    # The plan gives both jobs to crew 1, whose first repair is estimated at 30 minutes;
    # it takes 180, past the end of its shift: crew 2, waiting, takes job 2 then.
    overran = field_job(1, (0, 0), 0, 180)
    overran = replace(overran, job=replace(overran.job, repair_s=30 * 60))
    jobs = [overran, field_job(2, (1, 0), 0, 30)]
    crews = [
        field_crew(1, (0, 0), shifts=(shift(0, 120),)),
        field_crew(2, (90, 0), shifts=(shift(0, 720),)),
    ]
    result = run(jobs, crews, Policy.PLANNER)
    assert result.undone == ()
    assert result.done[-1] == done(2, 2, 180, 269, 299)


@pytest.mark.parametrize("policy", list(Policy))
@pytest.mark.parametrize("seed", range(3))
def test_the_replay_is_deterministic(policy: Policy, seed: int) -> None:
    first = run(*random_record(random.Random(seed)), policy)
    second = run(*random_record(random.Random(seed)), policy)
    assert first == second
    assert first.done


def test_a_recorded_lag_counts_from_when_the_job_was_known_or_the_crew_free() -> None:
    lags = recorded_lags(
        {
            1: [
                (1, t(0), t(10), t(50)),  # known at the start: 10
                (2, t(20), t(55), t(90)),  # known before the crew was free at 50: 5
                (3, t(100), t(112), t(130)),  # known after the crew was free at 90: 12
            ],
            2: [(4, t(-30), t(15), t(40))],  # known before the start: from the start
        },
        START,
    )
    assert lags == {1: 600, 2: 300, 3: 720, 4: 900}


def test_a_recorded_lag_is_never_negative() -> None:
    lags = recorded_lags(
        {
            1: [
                (1, t(0), t(0), t(50)),
                (2, t(0), t(40), t(90)),  # set off before the crew was free of job 1
                (3, t(120), t(110), t(150)),  # set off before it was known
            ]
        },
        START,
    )
    assert lags == {1: 0, 2: 0, 3: 0}


def test_a_recorded_lag_counts_from_the_latest_finish_so_far() -> None:
    # Job 2 was finished before job 1 (records overlap): the crew is free at 60, not 30.
    lags = recorded_lags(
        {1: [(1, t(0), t(0), t(60)), (2, t(0), t(5), t(30)), (3, t(0), t(70), t(90))]},
        START,
    )
    assert lags == {1: 0, 2: 0, 3: 600}
