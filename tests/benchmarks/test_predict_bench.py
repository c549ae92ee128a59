"""The prediction benchmark and its spatial baseline."""

import math

import pytest

from benchmarks import predict as bench
from benchmarks.baseline import SpatialBaseline, common_device, dbscan, to_metres
from grid_topology.model import DeviceKind
from grid_topology.topology import Link, Network, Topology

CONTRACT = {
    "grid",
    "call_rate",
    "noise",
    "faults",
    "exact",
    "within_one_hop",
    "baseline_exact",
    "reports_to_correct_median",
    "latency_p99_s",
}
SHARES = ("exact", "within_one_hop", "baseline_exact", "baseline_within_one_hop")


@pytest.fixture(scope="module")
def quick_result() -> dict:
    stages: list[tuple[str, int, int]] = []
    result = bench.run("", quick=True, progress=lambda *s: stages.append(s), scenarios=4)
    result["stages"] = stages
    return result


def test_quick_run_gives_every_contract_field(quick_result: dict) -> None:
    assert quick_result.keys() >= CONTRACT
    assert quick_result["call_rate"] == 0.2
    assert quick_result["noise"] == 0.05
    assert quick_result["scenarios"] == 4
    assert 4 * 3 <= quick_result["faults"] <= 4 * 6
    assert 0 <= quick_result["undetectable"] < quick_result["faults"]
    for name in SHARES:
        assert 0 <= quick_result[name] <= 1, name
    assert quick_result["exact"] <= quick_result["within_one_hop"]
    assert quick_result["reports_to_correct_median"] >= 0
    assert 0 < quick_result["latency_p50_s"] <= quick_result["latency_p99_s"] < 1
    assert quick_result["false_incidents"] >= 0


def test_quick_run_has_one_table_row_and_reports_progress(quick_result: dict) -> None:
    (row,) = quick_result["table"]
    assert row == {k: v for k, v in quick_result.items() if k not in ("table", "stages", "ami")}
    assert quick_result["stages"][-1][1:] == (4, 4)


def test_ami_mode_runs_each_call_rate_with_pings_and_without(quick_result: dict) -> None:
    table = quick_result["ami"]["table"]
    assert [(r["call_rate"], r["pings"]) for r in table] == [
        (rate, pinged) for rate in (0.05, 0.1, 0.2) for pinged in (False, True)
    ]
    assert all(r["pings_per_incident"] == 0 for r in table if not r["pings"])
    assert all(0 < r["pings_per_incident"] <= 10 for r in table if r["pings"])


def test_pings_name_more_devices_exactly_and_drop_noise_calls(quick_result: dict) -> None:
    ami = quick_result["ami"]
    assert ami["exact"] >= ami["exact_without_pings"]
    assert ami["false_service_per_scenario"] <= ami["false_service_without_pings"]


def test_projection_keeps_distances() -> None:
    # 0.001 degree of latitude is about 111 m.
    (x0, y0), (x1, y1) = to_metres([(105.85, 21.02), (105.85, 21.021)])
    assert math.hypot(x1 - x0, y1 - y0) == pytest.approx(111.2, abs=0.5)


def test_dbscan_chains_neighbours_and_marks_noise() -> None:
    points = [(0.0, 0.0), (100.0, 0.0), (200.0, 0.0), (1000.0, 0.0), (5000.0, 5000.0)]
    assert dbscan(points, eps=150, min_samples=1) == [0, 0, 0, 1, 2]
    assert dbscan(points, eps=150, min_samples=2) == [0, 0, 0, -1, -1]


def test_common_device_is_the_lowest_shared_one() -> None:
    assert common_device([("F1", "B"), ("F2", "B")]) == "B"
    assert common_device([("F1", "B")]) == "F1"
    assert common_device([("F1", "B1"), ("F2", "B2")]) is None


def test_baseline_names_one_device_per_cluster() -> None:
    K = DeviceKind
    links = [
        Link("B", K.BREAKER, "S", "n0"),
        Link("F1", K.FUSE, "n0", "a"),
        Link("F2", K.FUSE, "n0", "b"),
    ]
    topology = Topology(
        Network(
            links={link.asset_ref: link for link in links},
            sources=frozenset({"S"}),
            accounts_at={"a": ("a1", "a2"), "b": ("b1",)},
        )
    )
    near, far = (105.85, 21.02), (105.86, 21.03)
    baseline = SpatialBaseline(topology, {"a1": near, "a2": near, "b1": far})
    assert baseline.predict(["a1", "a2", "b1"]) == ["F1", "F2"]
    together = SpatialBaseline(topology, {"a1": near, "a2": near, "b1": near})
    assert together.predict(["a1", "b1"]) == ["B"]
