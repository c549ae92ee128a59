"""The tamper-evidence benchmark: a storm's trail sealed and verified whole."""

from typing import Any

import pytest

from benchmarks import audit as bench

CONTRACT = {
    "events",
    "sealed",
    "seal_s",
    "verify_s",
    "read_s",
    "verify_vs_read",
    "checked",
    "broken",
}


@pytest.fixture(scope="module")
def result(database_url: str) -> dict[str, Any]:
    return bench.run(database_url, quick=True, progress=lambda *_: None)


def test_every_event_of_the_storm_is_sealed_and_verified(result: dict[str, Any]) -> None:
    assert result.keys() == CONTRACT
    assert result["events"] == result["sealed"] == result["checked"] == bench.QUICK_EVENTS
    assert result["broken"] == 0
