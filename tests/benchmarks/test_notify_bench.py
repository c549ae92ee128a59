"""The notification benchmark: an outage of 1,000 customers, every one told once; and a
storm, counting the messages each customer gets."""

from typing import Any

import pytest

from benchmarks import notify as bench

CONTRACT = {"customers", "seconds_to_all", "per_s", "duplicates", "lost", "storm"}
STORM = {
    "outages",
    "customers",
    "messages",
    "per_customer_mean",
    "per_customer_p50",
    "per_customer_p90",
    "per_customer_max",
    "by_kind",
    "skipped_stale",
    "goal_per_customer",
    "within_goal_share",
}


@pytest.fixture(scope="module")
def result(database_url: str) -> dict[str, Any]:
    stages: list[tuple[str, int, int]] = []
    figures = bench.run(database_url, quick=True, progress=lambda *s: stages.append(s))
    return {**figures, "stages": stages}


def test_quick_run_tells_every_customer_once(result: dict[str, Any]) -> None:
    assert result.keys() - {"stages"} == CONTRACT
    assert result["customers"] >= 1000
    assert result["lost"] == 0 and result["duplicates"] == 0
    assert result["per_s"] > 0 and result["seconds_to_all"] > 0
    delivered = [s for s in result["stages"] if s[0] == "notify: delivered"]
    assert delivered[-1][1:] == (result["customers"], result["customers"])


def test_a_storm_counts_the_messages_each_customer_gets(result: dict[str, Any]) -> None:
    storm = result["storm"]
    assert storm.keys() == STORM
    assert storm["outages"] > 0 and storm["customers"] > 0
    assert 0 < storm["per_customer_p50"] <= storm["per_customer_p90"] <= storm["per_customer_max"]
    assert sum(storm["by_kind"].values()) == storm["messages"]
    assert 0 <= storm["within_goal_share"] <= 1
