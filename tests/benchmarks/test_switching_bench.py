"""The switching benchmark, at a small size: followers hear of every change and keep up."""

from typing import Any

import pytest

from benchmarks import switching

CONTRACT = {"grid", "customers", "p50_ms", "p99_ms", "rss_added_mb"}


@pytest.fixture(scope="module")
def result(database_url: str) -> dict[str, Any]:
    return switching.run(
        database_url, quick=True, progress=lambda *stage: None, customers=4000, samples=10
    )


def test_reports_the_contracts_figures_for_each_grid(result: dict[str, Any]) -> None:
    assert set(result) >= CONTRACT
    grids = [row["grid"] for row in result["table"]]
    assert grids[0] == "sample grid" and grids[1].startswith("sample grid tiled")
    assert result["customers"] > result["table"][0]["customers"]


def test_every_follower_keeps_up_with_every_change(result: dict[str, Any]) -> None:
    for row in result["table"]:
        assert 0 <= row["p50_ms"] <= row["p99_ms"]
        assert row["rss_added_mb"] > 0


def test_switching_is_cheaper_than_orienting_again(result: dict[str, Any]) -> None:
    for row in result["table"]:
        assert row["speedup_p50"] > 1
