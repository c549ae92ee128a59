"""The grid API over HTTP."""

from urllib.parse import quote

from fastapi.testclient import TestClient

from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology


def _first_feeder_head(sample_grid: GridModel) -> str:
    return sample_grid.feeders[0].head


def test_health_reports_database_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_devices_filter_by_kind(client: TestClient) -> None:
    response = client.get("/api/v1/grid/devices", params={"kind": "fuse", "limit": 50})
    assert response.status_code == 200
    devices = response.json()
    assert devices
    assert {d["kind"] for d in devices} == {"fuse"}
    assert all(d["is_protective"] for d in devices)


def test_devices_reject_unknown_kind(client: TestClient) -> None:
    response = client.get("/api/v1/grid/devices", params={"kind": "teapot"})
    assert response.status_code == 422


def test_device_detail_counts_customers_downstream(
    client: TestClient, sample_grid: GridModel
) -> None:
    head = _first_feeder_head(sample_grid)
    expected = len(Topology(Network.from_model(sample_grid)).downstream(head).accounts)
    response = client.get(f"/api/v1/grid/devices/{quote(head)}")
    assert response.status_code == 200
    body = response.json()
    assert body["customers_downstream"] == expected > 0
    assert body["feeder"] == sample_grid.feeders[0].name
    assert body["geometry"]["type"] == "Point"


def test_unknown_device_is_404_with_reason(client: TestClient) -> None:
    response = client.get("/api/v1/grid/devices/no-such-device")
    assert response.status_code == 404
    assert "no-such-device" in response.json()["detail"]


def test_downstream_trace_lists_transformers_and_customers(
    client: TestClient, sample_grid: GridModel
) -> None:
    head = _first_feeder_head(sample_grid)
    body = client.get(f"/api/v1/grid/trace/{quote(head)}", params={"direction": "down"}).json()
    topology = Topology(Network.from_model(sample_grid))
    trace = topology.downstream(head)
    transformers = {d for d in trace.devices if topology.network.links[d].kind == "transformer"}
    assert {t["asset_ref"] for t in body["transformers"]} == transformers
    assert body["customers"] == len(trace.accounts)
    assert sum(t["customers_downstream"] for t in body["transformers"]) <= body["customers"]


def test_upstream_trace_ends_at_the_feeder_breaker(
    client: TestClient, sample_grid: GridModel
) -> None:
    premise = sample_grid.premises[0]
    topology = Topology(Network.from_model(sample_grid))
    transformer = next(
        d
        for d in topology.upstream_of_node(premise.node).devices
        if topology.network.links[d].kind == "transformer"
    )
    body = client.get(f"/api/v1/grid/trace/{quote(transformer)}", params={"direction": "up"})
    assert body.status_code == 200
    heads = {f.head for f in sample_grid.feeders}
    assert heads & {d["asset_ref"] for d in body.json()["devices"]}


def test_trace_rejects_unknown_direction(client: TestClient, sample_grid: GridModel) -> None:
    head = quote(_first_feeder_head(sample_grid))
    response = client.get(f"/api/v1/grid/trace/{head}", params={"direction": "sideways"})
    assert response.status_code == 422
