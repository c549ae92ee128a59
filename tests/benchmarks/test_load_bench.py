"""The load benchmark, briefly: concurrent reporters against a full server."""

from typing import Any

import pytest

from benchmarks import load


@pytest.fixture(scope="module")
def result(database_url: str) -> dict[str, Any]:
    return load.run(
        database_url, quick=True, progress=lambda *stage: None, reporters=8, duration_s=3
    )


def test_reports_latency_and_errors(result: dict[str, Any]) -> None:
    assert result["reporters"] == 8
    assert result["requests"] > 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert result["per_s"] > 0
    assert 0 <= result["error_rate"] <= 1


def test_a_healthy_server_answers_every_request(result: dict[str, Any]) -> None:
    assert result["errors"] == 0
    assert result["unanswered"] == 0


def test_the_engine_takes_in_every_placed_report(result: dict[str, Any]) -> None:
    assert result["reports_placed"] > 0
    assert result["reports_on_incidents"] == result["reports_placed"]
