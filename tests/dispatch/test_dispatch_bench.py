"""The dispatch benchmark."""

import pytest

from benchmarks import dispatch as bench
from dispatch.model import Skill

CONTRACT = {"jobs", "crews", "cmi", "greedy_cmi", "cmi_ratio_vs_greedy", "solve_s"}


@pytest.fixture(scope="module")
def quick_result() -> dict:
    stages: list[tuple[str, int, int]] = []
    result = bench.run("", quick=True, progress=lambda *s: stages.append(s), time_limit_s=1.0)
    result["stages"] = stages
    return result


def test_quick_run_gives_every_contract_field(quick_result: dict) -> None:
    assert quick_result.keys() >= CONTRACT
    assert (quick_result["jobs"], quick_result["crews"]) == (100, 30)
    assert quick_result["cmi"] > 0 and quick_result["greedy_cmi"] > 0
    assert quick_result["cmi_ratio_vs_greedy"] == pytest.approx(
        quick_result["cmi"] / quick_result["greedy_cmi"], rel=1e-3
    )
    assert quick_result["solve_s"] > 0
    assert quick_result["fallbacks"] == 0


def test_quick_run_has_one_table_row_and_reports_progress(quick_result: dict) -> None:
    (row,) = quick_result["table"]
    assert row == {k: v for k, v in quick_result.items() if k not in ("table", "stages")}
    assert quick_result["stages"][-1][1:] == (1, 1)


def test_instances_are_seeded_and_every_job_has_a_capable_crew() -> None:
    square = bench.sample_square()
    config = bench.Config("small", 60, 12, seeds=1)
    one, again = bench.generate(config, 3, square), bench.generate(config, 3, square)
    assert one == again
    assert one != bench.generate(config, 4, square)
    for job in one.jobs:
        assert any(job.skills <= crew.skills for crew in one.crews), job
    assert {s for job in one.jobs for s in job.skills} <= set(Skill)
    lons = [job.location[0] for job in one.jobs]
    assert max(lons) - min(lons) < 0.2, "within the 10 km square"
