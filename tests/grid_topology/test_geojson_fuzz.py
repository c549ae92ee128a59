"""The GeoJSON grid importer fuzzed: any document gives a grid or a GridFormatError
listing its problems, never another exception."""

import contextlib
import copy
import gzip
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from grid_topology.geojson import GridFormatError, grid_to_geojson, parse_grid, read_grid
from tests.conftest import FUZZ

from .test_geojson import small_grid

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", "NaN", "1e999", "\x00", "\ud800"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
"""Any JSON value, and strings that have broken parsers before."""

VALID = grid_to_geojson(small_grid())


def _parse(doc: Any) -> None:
    try:
        parse_grid(doc)
    except GridFormatError as error:
        assert error.problems or error.unlisted


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """The small valid grid with a few members replaced, removed or added at random."""
    doc = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        feature = draw(st.sampled_from(doc["features"]))
        where = draw(st.sampled_from(["properties", "geometry", "feature"]))
        target = feature if where == "feature" else feature.get(where)
        if not isinstance(target, dict) or not target:
            continue
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            target[key] = draw(JSON)
        else:
            del target[key]
    return doc


@FUZZ
@given(JSON)
def test_any_json_document_is_a_grid_or_a_format_error(doc: Any) -> None:
    _parse(doc)


@FUZZ
@given(mutated())
def test_a_damaged_grid_is_a_grid_or_a_format_error(doc: dict[str, Any]) -> None:
    _parse(doc)


@FUZZ
@given(st.binary(max_size=200))
@example(b"\x1f\x8b")
@example(gzip.compress(b"[]")[:10] + b"\xff" * 30)
@example(b"[" * 100_000)
def test_any_file_is_a_grid_or_a_format_error(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "grid.geojson"
    path.write_bytes(data)
    with contextlib.suppress(GridFormatError):
        read_grid(path)


def test_the_fuzzed_valid_grid_reads_back() -> None:
    assert parse_grid(json.loads(json.dumps(VALID))) == small_grid()
