import copy
import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from grid_topology.geojson import (
    GRID_FORMAT,
    MAX_PROBLEMS,
    GridFormatError,
    grid_to_geojson,
    parse_grid,
    read_grid,
    write_grid,
)
from grid_topology.model import (
    Customer,
    Device,
    DeviceKind,
    Feeder,
    GridModel,
    Node,
    Premise,
    Substation,
)


def small_grid() -> GridModel:
    """A substation feeding one MV line, a fuse, a transformer and two LV customers."""
    return GridModel(
        substations=[Substation("TBA Giám", (105.835, 21.0283))],
        nodes=[
            Node("N-SRC", (105.835, 21.0283), 110.0, substation="TBA Giám", is_source=True),
            Node("N-BUS", (105.835, 21.0284), 22.0, substation="TBA Giám"),
            Node("N-1", (105.8361, 21.0291), 22.0),
            Node("N-2", (105.8362, 21.0291), 22.0),
            Node("N-LV", (105.8362, 21.0292), 0.4),
        ],
        devices=[
            Device(
                "T-1",
                DeviceKind.TRANSFORMER,
                "N-SRC",
                "N-BUS",
                ((105.835, 21.0283),),
                rating_kva=40000.0,
                substation="TBA Giám",
            ),
            Device("BR-471", DeviceKind.BREAKER, "N-BUS", "N-1", ((105.835, 21.0284),)),
            Device(
                "L-1",
                DeviceKind.LINE,
                "N-1",
                "N-2",
                ((105.8361, 21.0291), (105.83615, 21.029123), (105.8362, 21.0291)),
                voltage_kv=22.0,
                rating_kva=13600.0,
            ),
            Device(
                "TIE-1",
                DeviceKind.SWITCH,
                "N-2",
                "N-1",
                ((105.8362, 21.0291),),
                True,
                True,
                remote_controlled=True,
            ),
            Device("TR-1", DeviceKind.TRANSFORMER, "N-2", "N-LV", ((105.8362, 21.0292),)),
        ],
        feeders=[Feeder("471 Giám", "TBA Giám", "BR-471")],
        premises=[
            Premise(
                "P-1",
                "N-LV",
                (105.83625, 21.02925),
                "12 Lý Thường Kiệt, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội",
                Customer("PD01000001", "Nguyễn Văn An", "+84912345678", None, "vi"),
                load_kw=3.0,
                load_kvar=1.2,
            ),
            Premise(
                "P-2",
                "N-LV",
                (105.83626, 21.02926),
                "14 Lý Thường Kiệt, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội",
                Customer(
                    "PD01000002",
                    "Trần Thị Hoa",
                    "+84387654321",
                    "hoa.tran@example.com",
                    "en",
                    critical="life_support",
                ),
            ),
        ],
    )


def problems_of(doc: Any) -> list[str]:
    with pytest.raises(GridFormatError) as caught:
        parse_grid(doc)
    return caught.value.problems


def feature(doc: dict[str, Any], feature_type: str, identity: str) -> dict[str, Any]:
    """The feature of the given type whose name, ref or asset_ref is `identity`."""
    for candidate in doc["features"]:
        properties = candidate["properties"]
        if properties["type"] == feature_type and identity in (
            properties.get("name"),
            properties.get("ref"),
            properties.get("asset_ref"),
        ):
            return candidate
    raise KeyError(identity)


@pytest.mark.parametrize("name", ["grid.geojson", "grid.geojson.gz"])
def test_write_then_read_gives_the_same_model(tmp_path: Path, name: str) -> None:
    model = small_grid()
    write_grid(model, tmp_path / name)
    assert read_grid(tmp_path / name) == model


def test_gz_files_are_gzip_and_reproducible(tmp_path: Path) -> None:
    write_grid(small_grid(), tmp_path / "a.geojson.gz")
    write_grid(small_grid(), tmp_path / "b.geojson.gz")
    data = (tmp_path / "a.geojson.gz").read_bytes()
    assert data[:2] == b"\x1f\x8b"
    assert data == (tmp_path / "b.geojson.gz").read_bytes()
    json.loads(gzip.decompress(data))


def test_written_file_is_compact_utf8_with_rounded_coordinates(tmp_path: Path) -> None:
    model = small_grid()
    model.substations[0] = Substation("TBA Giám", (105.83512345678, 21.02831111119))
    write_grid(model, tmp_path / "grid.geojson", attribution="© EVN Hà Nội")
    text = (tmp_path / "grid.geojson").read_text(encoding="utf-8")
    assert "\n" not in text and ": " not in text
    assert "Giám" in text
    doc = json.loads(text)
    assert doc["grid_format"] == GRID_FORMAT
    assert doc["attribution"] == "© EVN Hà Nội"
    assert feature(doc, "substation", "TBA Giám")["geometry"]["coordinates"] == [
        105.835123,
        21.028311,
    ]
    assert read_grid(tmp_path / "grid.geojson").substations[0].location == (105.835123, 21.028311)


def test_document_layout() -> None:
    doc = grid_to_geojson(small_grid())
    assert doc["type"] == "FeatureCollection"
    assert "attribution" not in doc
    line = feature(doc, "device", "L-1")
    assert line["geometry"]["type"] == "LineString"
    assert line["properties"] == {
        "type": "device",
        "asset_ref": "L-1",
        "kind": "line",
        "from_node": "N-1",
        "to_node": "N-2",
        "normal_open": False,
        "is_open": False,
        "voltage_kv": 22.0,
        "rating_kva": 13600.0,
    }
    assert feature(doc, "device", "TIE-1")["properties"]["remote_controlled"] is True
    assert feature(doc, "device", "BR-471")["geometry"]["type"] == "Point"
    assert feature(doc, "feeder", "471 Giám")["geometry"] is None
    customer = feature(doc, "premise", "P-1")["properties"]["customer"]
    assert customer == {
        "account": "PD01000001",
        "name": "Nguyễn Văn An",
        "phone": "+84912345678",
        "language": "vi",
    }


def test_reading_ignores_extra_members_and_properties() -> None:
    doc = grid_to_geojson(small_grid(), attribution="GIS team")
    doc["license"] = "CC-BY-4.0"
    feature(doc, "node", "N-1")["properties"]["gis_objectid"] = 4711
    assert parse_grid(doc) == small_grid()


def test_reading_accepts_altitude_and_null_optional_properties() -> None:
    doc = grid_to_geojson(small_grid())
    node = feature(doc, "node", "N-1")
    node["geometry"]["coordinates"].append(12.5)
    node["properties"]["substation"] = None
    assert parse_grid(doc) == small_grid()


def test_the_writer_refuses_a_device_without_location() -> None:
    model = small_grid()
    model.devices.append(Device("X", DeviceKind.FUSE, "N-1", "N-2", ()))
    with pytest.raises(ValueError, match="'X' has no location"):
        grid_to_geojson(model)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("grid_format"), "grid_format is missing"),
        (lambda d: d.update(grid_format="outage-grid/9"), "grid_format is 'outage-grid/9'"),
        (lambda d: d.update(type="Feature"), "must be a GeoJSON FeatureCollection"),
        (lambda d: d.update(features={}), "features must be a list"),
    ],
)
def test_a_document_of_another_kind_fails_at_once(change: Any, expected: str) -> None:
    doc = grid_to_geojson(small_grid())
    change(doc)
    [problem] = problems_of(doc)
    assert expected in problem


def test_unknown_device_kind() -> None:
    doc = grid_to_geojson(small_grid())
    feature(doc, "device", "BR-471")["properties"]["kind"] = "circuit_breaker"
    [problem] = problems_of(doc)
    assert problem.startswith("features[7] (device 'BR-471'): property 'kind'")
    assert "'breaker'" in problem and "'circuit_breaker'" in problem


def test_unknown_feature_type() -> None:
    doc = grid_to_geojson(small_grid())
    doc["features"].append({"type": "Feature", "geometry": None, "properties": {"type": "pole"}})
    [problem] = problems_of(doc)
    assert problem.startswith(f"features[{len(doc['features']) - 1}]: unknown properties.type")
    assert "'pole'" in problem


def test_missing_required_properties_are_all_listed() -> None:
    doc = grid_to_geojson(small_grid())
    properties = feature(doc, "premise", "P-1")["properties"]
    del properties["address"]
    del properties["customer"]["phone"]
    assert problems_of(doc) == [
        "features[12] (premise 'P-1'): missing required property 'address'",
        "features[12] (premise 'P-1'): missing required property 'customer.phone'",
    ]


@pytest.mark.parametrize(
    ("prop", "value", "expected"),
    [
        ("phone", "0912345678", "must be an E.164 number"),
        ("email", "not-an-address", "must be an e-mail address"),
        ("language", "Vietnamese", "should match pattern"),
    ],
)
def test_invalid_customer_values(prop: str, value: str, expected: str) -> None:
    doc = grid_to_geojson(small_grid())
    feature(doc, "premise", "P-2")["properties"]["customer"][prop] = value
    [problem] = problems_of(doc)
    assert f"(premise 'P-2'): property 'customer.{prop}'" in problem
    assert expected in problem


def test_a_negative_demand_is_refused() -> None:
    doc = grid_to_geojson(small_grid())
    feature(doc, "premise", "P-1")["properties"]["load_kw"] = -3
    [problem] = problems_of(doc)
    assert "(premise 'P-1'): property 'load_kw'" in problem


def test_restoration_data_is_optional() -> None:
    doc = grid_to_geojson(small_grid())
    del feature(doc, "device", "TIE-1")["properties"]["remote_controlled"]
    del feature(doc, "premise", "P-1")["properties"]["load_kw"]
    model = parse_grid(doc)
    assert not next(d for d in model.devices if d.asset_ref == "TIE-1").remote_controlled
    assert model.premises[0].load_kw is None


def test_a_device_referencing_a_missing_node() -> None:
    doc = grid_to_geojson(small_grid())
    feature(doc, "device", "L-1")["properties"]["to_node"] = "N-404"
    assert problems_of(doc) == [
        "features[8] (device 'L-1'): to_node 'N-404' is not a node in the document"
    ]


def test_other_dangling_references() -> None:
    doc = grid_to_geojson(small_grid())
    feature(doc, "feeder", "471 Giám")["properties"]["head"] = "BR-999"
    feature(doc, "premise", "P-1")["properties"]["node"] = "N-404"
    feature(doc, "node", "N-1")["properties"]["substation"] = "TBA Nowhere"
    problems = problems_of(doc)
    assert len(problems) == 3
    assert "substation 'TBA Nowhere' is not a substation" in problems[0]
    assert "head 'BR-999' is not a device" in problems[1]
    assert "node 'N-404' is not a node" in problems[2]


@pytest.mark.parametrize(
    ("feature_type", "identity", "prop", "expected"),
    [
        ("device", "TIE-1", "asset_ref", "duplicate asset_ref 'L-1' (first at features[8])"),
        ("node", "N-2", "ref", "duplicate ref 'N-1' (first at features[3])"),
        ("premise", "P-2", "ref", "duplicate ref 'P-1' (first at features[12])"),
    ],
)
def test_duplicate_identities(feature_type: str, identity: str, prop: str, expected: str) -> None:
    doc = grid_to_geojson(small_grid())
    first = {"asset_ref": "L-1", "ref": "N-1" if feature_type == "node" else "P-1"}[prop]
    feature(doc, feature_type, identity)["properties"][prop] = first
    problems = [p for p in problems_of(doc) if "duplicate" in p]
    assert len(problems) == 1
    assert problems[0].endswith(expected)


def test_duplicate_customer_account() -> None:
    doc = grid_to_geojson(small_grid())
    feature(doc, "premise", "P-2")["properties"]["customer"]["account"] = "PD01000001"
    assert problems_of(doc) == [
        "features[13] (premise 'P-2'): duplicate customer.account 'PD01000001'"
        " (first at features[12])"
    ]


@pytest.mark.parametrize(
    ("feature_type", "identity", "geometry", "expected"),
    [
        ("node", "N-1", None, "geometry must be Point, not null"),
        (
            "premise",
            "P-1",
            {"type": "LineString", "coordinates": [[105.8, 21.0], [105.9, 21.0]]},
            "geometry must be Point, not 'LineString'",
        ),
        (
            "device",
            "L-1",
            {"type": "Polygon", "coordinates": []},
            "geometry must be Point or LineString, not 'Polygon'",
        ),
        ("feeder", "471 Giám", {"type": "Point", "coordinates": [1, 2]}, "geometry must be null"),
        (
            "device",
            "L-1",
            {"type": "LineString", "coordinates": [[105.8, 21.0]]},
            "a LineString needs at least two positions",
        ),
        (
            "node",
            "N-1",
            {"type": "Point", "coordinates": ["105.8", "21.0"]},
            "a position must be [longitude, latitude]",
        ),
        (
            "node",
            "N-1",
            {"type": "Point", "coordinates": [21.03, 105.84]},
            "latitude 105.84 is outside [-90, 90] (GeoJSON puts longitude first)",
        ),
        (
            "substation",
            "TBA Giám",
            {"type": "Point", "coordinates": [185.0, 21.0]},
            "longitude 185.0 is outside [-180, 180]",
        ),
    ],
)
def test_wrong_geometry(feature_type: str, identity: str, geometry: Any, expected: str) -> None:
    doc = grid_to_geojson(small_grid())
    feature(doc, feature_type, identity)["geometry"] = geometry
    [problem] = problems_of(doc)
    assert f"({feature_type} {identity!r}): {expected}" in problem


def test_problems_are_collected_up_to_a_limit() -> None:
    doc = grid_to_geojson(small_grid())
    node = feature(doc, "node", "N-1")
    for number in range(MAX_PROBLEMS + 5):
        broken = copy.deepcopy(node)
        broken["properties"]["ref"] = f"N-X{number}"
        broken["properties"]["voltage_kv"] = -1
        doc["features"].append(broken)
    with pytest.raises(GridFormatError) as caught:
        parse_grid(doc)
    error = caught.value
    assert len(error.problems) == MAX_PROBLEMS
    assert error.unlisted == 5
    assert f"{MAX_PROBLEMS + 5} problem(s)" in str(error)
    assert "... and 5 more" in str(error)
    assert "property 'voltage_kv': Input should be greater than 0" in error.problems[0]


def test_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "grid.geojson"
    path.write_text("<kml/>")
    with pytest.raises(GridFormatError, match="not a JSON document"):
        read_grid(path)


def test_gzip_is_recognised_by_content(tmp_path: Path) -> None:
    write_grid(small_grid(), tmp_path / "grid.geojson.gz")
    (tmp_path / "grid.geojson.gz").rename(tmp_path / "export.geojson")
    assert read_grid(tmp_path / "export.geojson") == small_grid()


def test_the_example_in_the_documentation_is_valid() -> None:
    text = (Path(__file__).parents[2] / "docs" / "geojson-grid.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    model = parse_grid(json.loads(example))
    assert [f.head for f in model.feeders] == ["MC-471"]
    assert model.premises[0].customer.account == "PD01000123"
