"""The scale benchmark, at a small size: a tiled utility loads, and the engine runs on it."""

from typing import Any

import pytest

from benchmarks import scale
from grid_topology.model import GridModel
from outage.intake.phones import to_e164

CONTRACT = {"customers", "import_s", "engine_rss_mb", "repredict_s", "topology_s"}


@pytest.fixture(scope="module")
def result(database_url: str) -> dict[str, Any]:
    return scale.run(database_url, quick=True, progress=lambda *stage: None, customers=4000)


def test_tiles_are_separate_networks_with_unique_names(sample_grid: GridModel) -> None:
    model = scale.tiled(sample_grid, 3)
    assert len(model.premises) == 3 * len(sample_grid.premises)
    for names in (
        [n.ref for n in model.nodes],
        [d.asset_ref for d in model.devices],
        [p.customer.account for p in model.premises],
        [p.meter_id for p in model.premises],
        [f.name for f in model.feeders],
    ):
        assert len(set(names)) == len(names)
    first, second = model.nodes[0], model.nodes[len(sample_grid.nodes)]
    assert second.ref == first.ref.replace("T0000/", "T0001/")
    assert second.location != first.location


def test_tiled_customers_have_their_own_valid_phones_and_emails(sample_grid: GridModel) -> None:
    model = scale.tiled(sample_grid, 3)
    phones = [p.customer.phone for p in model.premises]
    emails = [p.customer.email for p in model.premises if p.customer.email is not None]
    assert len(set(phones)) == len(phones)
    assert len(set(emails)) == len(emails) > 0
    assert all(to_e164(phone) == phone for phone in phones)


def test_tiles_do_not_overlap(sample_grid: GridModel) -> None:
    model = scale.tiled(sample_grid, 2)
    size = len(sample_grid.nodes)
    left = max(n.location[0] for n in model.nodes[:size])
    right = min(n.location[0] for n in model.nodes[size:])
    assert right > left


def test_quick_run_reports_every_contract_field(result: dict[str, Any]) -> None:
    assert result.keys() >= CONTRACT
    assert result["tiles"] == 3
    assert result["customers"] == 3 * 1591
    assert result["import_s"] > 0
    assert result["engine_rss_mb"] > result["engine_rss_before_load_mb"] > 0
    assert result["repredict_s"] > 0
    assert 0 < result["topology_s"] <= result["engine_load_s"]


def test_the_engine_predicts_the_storm_it_is_given(result: dict[str, Any]) -> None:
    assert result["storm_faults"] > 0
    assert result["storm_evidence"] >= result["storm_faults"]
    assert result["storm_predictions"] >= 1


def test_the_scale_database_is_dropped_afterwards(
    result: dict[str, Any], database_url: str
) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        names = set(connection.scalars(text("SELECT datname FROM pg_database")))
    engine.dispose()
    assert scale.DATABASE not in names
