"""The notification benchmark: an outage of 1,000 customers, every one told once."""

from benchmarks import notify as bench

CONTRACT = {"customers", "seconds_to_all", "per_s", "duplicates", "lost"}


def test_quick_run_tells_every_customer_once(database_url: str) -> None:
    stages: list[tuple[str, int, int]] = []
    result = bench.run(database_url, quick=True, progress=lambda *s: stages.append(s))
    assert result.keys() == CONTRACT
    assert result["customers"] >= 1000
    assert result["lost"] == 0 and result["duplicates"] == 0
    assert result["per_s"] > 0 and result["seconds_to_all"] > 0
    assert stages[-1][1:] == (result["customers"], result["customers"])
