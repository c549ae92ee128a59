"""The meter-event flood benchmark, at CI size: batches of 10,000 over HTTP against COPY."""

from typing import Any

import pytest

from benchmarks import ami_intake


@pytest.fixture(scope="module")
def result(database_url: str) -> dict[str, Any]:
    return ami_intake.flood(database_url, quick=True, progress=lambda *stage: None)


def test_every_event_of_every_batch_is_stored(result: dict[str, Any]) -> None:
    assert result["errors"] == 0
    assert result["accepted"] == result["events"] == 2 * result["batch_size"]


def test_a_retried_flood_is_all_duplicates(result: dict[str, Any]) -> None:
    assert result["duplicates_on_retry"] == result["events"]


def test_http_is_measured_against_copy(result: dict[str, Any]) -> None:
    assert result["http_events_per_s"] > 0
    assert result["raw_copy_events_per_s"] > 0
    assert result["ratio"] > 0
