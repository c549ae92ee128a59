"""The public map's aggregation: customers out per H3 cell, never a single premise."""

import json
from datetime import UTC, datetime, timedelta

import h3

from maps.layers import (
    Cell,
    PlannedWork,
    PremiseOut,
    PublicOutage,
    area_name,
    areas_at,
    cells_at,
    cells_bbox,
    collection,
    outage_cells,
    planned_cells,
    public_features,
)

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
RESOLUTION = 8
# Two points a few metres apart (one cell), and one a few kilometres away.
HERE = (21.0285, 105.8542)
NEAR = (21.0286, 105.8543)
FAR = (21.0600, 105.9000)


def outage(outage_id: int, **overrides: object) -> PublicOutage:
    values: dict[str, object] = {"id": outage_id, "started_at": T0, "etr": None, "hazard": None}
    values.update({"cause": None, **overrides})
    return PublicOutage(**values)  # type: ignore[arg-type]


def premise(outage_id: int, premise_id: int, where: tuple[float, float], n: int) -> PremiseOut:
    return PremiseOut(outage_id, premise_id, where[0], where[1], n)


def test_customers_are_counted_per_cell() -> None:
    cells = outage_cells(
        [outage(1)],
        [premise(1, 10, HERE, 2), premise(1, 11, NEAR, 3), premise(1, 12, FAR, 4)],
        resolution=RESOLUTION,
        min_customers=1,
    )
    by_cell = {cell.cell: cell.customers_out for cell in cells}
    assert by_cell == {
        h3.latlng_to_cell(*HERE, RESOLUTION): 5,
        h3.latlng_to_cell(*FAR, RESOLUTION): 4,
    }


def test_a_premise_under_two_outages_counts_once() -> None:
    cells = outage_cells(
        [outage(1), outage(2)],
        [premise(1, 10, HERE, 5), premise(2, 10, HERE, 5)],
        resolution=RESOLUTION,
        min_customers=1,
    )
    [cell] = cells
    assert cell.customers_out == 5
    assert cell.outages == {1, 2}


def test_partial_restoration_counts_only_those_still_out() -> None:
    [cell] = outage_cells(
        [outage(1, share_out=0.5)],
        [premise(1, 10, HERE, 10)],
        resolution=RESOLUTION,
        min_customers=1,
    )
    assert cell.customers_out == 5


def test_a_cell_with_too_few_customers_is_merged_into_its_parent() -> None:
    alone = h3.latlng_to_cell(*HERE, RESOLUTION)
    sibling_of_alone = next(
        c for c in h3.cell_to_children(h3.cell_to_parent(alone, RESOLUTION - 1)) if c != alone
    )
    lat, lon = h3.cell_to_latlng(sibling_of_alone)
    cells = outage_cells(
        [outage(1)],
        [premise(1, 10, HERE, 1), premise(1, 11, (lat, lon), 4)],
        resolution=RESOLUTION,
        min_customers=3,
    )
    [merged] = cells
    assert merged.cell == h3.cell_to_parent(alone, RESOLUTION - 1)
    assert merged.customers_out == 5


def test_a_lone_household_is_left_off() -> None:
    cells = outage_cells(
        [outage(1)], [premise(1, 10, HERE, 1)], resolution=RESOLUTION, min_customers=3
    )
    assert cells == []


def test_the_cell_shows_the_latest_etr_and_says_when_part_has_none() -> None:
    later = T0 + timedelta(hours=3)
    [cell] = outage_cells(
        [outage(1, etr=T0 + timedelta(hours=1)), outage(2, etr=later), outage(3)],
        [premise(1, 10, HERE, 3), premise(2, 11, NEAR, 3), premise(3, 12, NEAR, 3)],
        resolution=RESOLUTION,
        min_customers=1,
    )
    [feature] = public_features([cell], [])
    assert feature["properties"]["etr"] == later.isoformat()
    assert feature["properties"]["etr_earliest"] == (T0 + timedelta(hours=1)).isoformat()
    assert feature["properties"]["etr_latest"] == later.isoformat()
    assert feature["properties"]["etr_partial"] is True


def test_the_cell_spans_its_outages_ranges() -> None:
    first, second = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
    margin = timedelta(minutes=40)
    [cell] = outage_cells(
        [
            outage(1, etr=first, etr_earliest=first - margin, etr_latest=first + margin),
            outage(2, etr=second, etr_earliest=second - margin, etr_latest=second + margin),
        ],
        [premise(1, 10, HERE, 3), premise(2, 11, NEAR, 3)],
        resolution=RESOLUTION,
        min_customers=1,
    )
    [feature] = public_features([cell], [])
    told = [feature["properties"][key] for key in ("etr_earliest", "etr", "etr_latest")]
    assert told == [(first - margin).isoformat(), second.isoformat(), (second + margin).isoformat()]


def test_a_merged_cell_keeps_its_childrens_ranges() -> None:
    etr = T0 + timedelta(hours=2)
    parent, child = Cell("parent"), Cell("child")
    child.add_outage(outage(1, etr=etr, etr_earliest=T0, etr_latest=etr), 1)
    parent.absorb(child)
    assert (parent.etr_earliest, parent.etr, parent.etr_latest) == (T0, etr, etr)


def test_an_area_is_named_after_the_ward_most_of_its_customers_are_in() -> None:
    [cell] = outage_cells(
        [outage(1)],
        [premise(1, 10, HERE, 2), premise(1, 11, NEAR, 5), premise(1, 12, NEAR, 1)],
        resolution=RESOLUTION,
        min_customers=1,
        names={10: "Phường Kim Mã, Quận Ba Đình", 11: "Phường Láng Hạ, Quận Đống Đa"},
    )
    assert cell.name == "Phường Láng Hạ, Quận Đống Đa"


def test_an_area_name_never_holds_the_house() -> None:
    address = "62 Nguyễn Trãi, Phường Thượng Đình, Quận Thanh Xuân, Hà Nội"
    assert area_name(address) == "Phường Thượng Đình, Quận Thanh Xuân"
    assert area_name("62 Nguyễn Trãi, Hà Nội") is None


def test_public_features_are_hexagons_with_counts_and_causes_only() -> None:
    cells = outage_cells(
        [outage(1, hazard="tree_on_line", cause="storm damage")],
        [premise(1, 10, HERE, 7)],
        resolution=RESOLUTION,
        min_customers=3,
        names={10: "Phường Kim Mã, Quận Ba Đình"},
    )
    body = json.loads(collection(public_features(cells, []), updated_at=T0.isoformat()))
    [feature] = body["features"]
    assert feature["geometry"]["type"] == "Polygon"
    assert len(feature["geometry"]["coordinates"][0]) == 7  # a closed hexagon
    assert feature["properties"] == {
        "id": feature["id"],
        "kind": "outage",
        "customers_out": 7,
        "outages": 1,
        "since": T0.isoformat(),
        "etr": None,
        "etr_earliest": None,
        "etr_latest": None,
        "etr_partial": False,
        "hazards": ["tree_on_line"],
        "causes": ["storm damage"],
        "name": "Phường Kim Mã, Quận Ba Đình",
    }
    assert body["updated_at"] == T0.isoformat()


def test_planned_work_is_counted_per_cell_with_its_window() -> None:
    work = PlannedWork(
        id=1,
        starts_at=T0 + timedelta(days=2),
        ends_at=T0 + timedelta(days=2, hours=4),
        premises=[(*HERE, 2), (*NEAR, 2)],
    )
    [cell] = planned_cells([work], resolution=RESOLUTION, min_customers=3)
    [feature] = public_features([], [cell])
    assert feature["properties"]["kind"] == "planned"
    assert feature["properties"]["customers"] == 4
    assert feature["properties"]["starts_at"] == work.starts_at.isoformat()
    assert feature["properties"]["ends_at"] == work.ends_at.isoformat()


def test_a_search_finds_the_area_its_cell_was_merged_into() -> None:
    cell = h3.latlng_to_cell(*HERE, RESOLUTION)
    parent = h3.cell_to_parent(cell, RESOLUTION - 1)
    features = {
        f"out-{parent}": {"id": f"out-{parent}", "properties": {"customers_out": 4}},
        "out-elsewhere": {"id": "out-elsewhere", "properties": {"customers_out": 9}},
    }
    assert [f["id"] for f in areas_at(cells_at([HERE, NEAR], RESOLUTION), features)] == [
        f"out-{parent}"
    ]


def test_a_search_answers_the_cells_extent_not_the_spot() -> None:
    cells = cells_at([HERE], RESOLUTION)
    west, south, east, north = cells_bbox(cells)
    assert west < HERE[1] < east and south < HERE[0] < north
    assert (east - west) > 0.005, "a cell wide, not a house"
