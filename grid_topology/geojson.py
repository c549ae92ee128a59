"""The "outage-grid/1" GeoJSON format: how a utility's GIS hands its network to us.

One FeatureCollection carries every substation, node, device, feeder and premise, so a GIS
team can produce it with ordinary tools and look at it in QGIS. The schema is documented for
them in docs/geojson-grid.md. Reading checks the whole document and reports its problems
together, each with the index of the offending feature, because a GIS export is fixed in the
GIS, not here, and one problem per round trip would be slow.
"""

import gzip
import json
import re
import zlib
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from enum import Enum
from operator import attrgetter
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    NonNegativeFloat,
    PositiveFloat,
    StringConstraints,
    ValidationError,
)

from grid_topology.model import (
    Coordinate,
    Customer,
    Device,
    DeviceKind,
    Feeder,
    GridModel,
    Node,
    Premise,
    Substation,
)

GRID_FORMAT = "outage-grid/1"
MAX_PROBLEMS = 20
"""Problems listed in one GridFormatError; the rest are only counted."""
DECIMALS = 6
"""Decimals of written coordinates: about 0.1 m, finer than any GIS survey."""

_Item = Substation | Node | Device | Feeder | Premise


class GridFormatError(ValueError):
    """The document is not a valid outage-grid/1 grid; `problems` has one line per problem."""

    def __init__(self, problems: Sequence[str], unlisted: int = 0) -> None:
        self.problems = list(problems)
        self.unlisted = unlisted
        total = len(self.problems) + unlisted
        lines = [f"invalid {GRID_FORMAT} document, {total} problem(s):"]
        lines += [f"  {problem}" for problem in self.problems]
        if unlisted:
            lines.append(f"  ... and {unlisted} more")
        super().__init__("\n".join(lines))


def read_grid(path: Path) -> GridModel:
    """Read a .geojson file, gzip-compressed or not (recognised by its content, not its name)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise GridFormatError([f"not a whole gzip file: {error}"]) from None
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise GridFormatError([f"not a JSON document: {error}"]) from None
    return parse_grid(doc)


def write_grid(model: GridModel, path: Path, attribution: str | None = None) -> None:
    """Write compact UTF-8 GeoJSON, gzip-compressed when the name ends in .gz.

    The gzip header carries no timestamp, so the same model always gives the same bytes.
    """
    doc = grid_to_geojson(model, attribution)
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def grid_to_geojson(model: GridModel, attribution: str | None = None) -> dict[str, Any]:
    """The model as an outage-grid/1 FeatureCollection; absent optional values are omitted."""
    features = [
        *(_feature("substation", s, _point(s.location)) for s in model.substations),
        *(_feature("node", n, _point(n.location)) for n in model.nodes),
        *(_feature("device", d, _device_geometry(d)) for d in model.devices),
        *(_feature("feeder", f, None) for f in model.feeders),
        *(_feature("premise", p, _point(p.location)) for p in model.premises),
    ]
    doc: dict[str, Any] = {"type": "FeatureCollection", "grid_format": GRID_FORMAT}
    if attribution is not None:
        doc["attribution"] = attribution
    doc["features"] = features
    return doc


def parse_grid(doc: Mapping[str, Any]) -> GridModel:
    """Validate an outage-grid/1 document and build the model from it.

    Raises GridFormatError listing up to MAX_PROBLEMS problems of the whole document.
    """
    features = _features(doc)
    problems = _Problems()
    parsed: dict[type, list[tuple[int, Any]]] = {
        kind: [] for kind in (Substation, Node, Device, Feeder, Premise)
    }
    invalid: set[tuple[str, str]] = set()
    for index, feature in enumerate(features):
        try:
            item = _parse_feature(feature)
        except _Invalid as error:
            identity = _raw_identity(feature)
            if identity is None:
                where = f"features[{index}]"
            else:
                where = _where(index, *identity)
                invalid.add(identity)
            problems.add_all(where, error.messages)
        else:
            parsed[type(item)].append((index, item))
    _check_references(parsed, invalid, problems)
    problems.raise_if_any()
    return GridModel(
        substations=[item for _, item in parsed[Substation]],
        nodes=[item for _, item in parsed[Node]],
        devices=[item for _, item in parsed[Device]],
        feeders=[item for _, item in parsed[Feeder]],
        premises=[item for _, item in parsed[Premise]],
    )


# Writing


def _feature(feature_type: str, item: _Item, geometry: dict[str, Any] | None) -> dict[str, Any]:
    properties = asdict(item, dict_factory=_json_values)
    properties.pop("location", None)
    properties.pop("path", None)
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"type": feature_type, **properties},
    }


_OMITTED_WHEN_FALSE = frozenset({"remote_controlled"})
"""Optional flags written only when set, so files without them stay as they were."""


def _json_values(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {
        key: value.value if isinstance(value, Enum) else value
        for key, value in pairs
        if value is not None and not (key in _OMITTED_WHEN_FALSE and value is False)
    }


def _position(coordinate: Coordinate) -> list[float]:
    return [round(coordinate[0], DECIMALS), round(coordinate[1], DECIMALS)]


def _point(coordinate: Coordinate) -> dict[str, Any]:
    return {"type": "Point", "coordinates": _position(coordinate)}


def _device_geometry(device: Device) -> dict[str, Any]:
    if not device.path:
        raise ValueError(f"device {device.asset_ref!r} has no location")
    if len(device.path) == 1:
        return _point(device.path[0])
    return {"type": "LineString", "coordinates": [_position(c) for c in device.path]}


# Reading: one feature at a time


class _Invalid(Exception):
    def __init__(self, messages: list[str]) -> None:
        self.messages = messages


def _phone(value: str) -> str:
    if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
        raise ValueError("must be an E.164 number such as +84912345678")
    return value


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError("must be an e-mail address such as name@example.com")
    return value


_Text = Annotated[str, StringConstraints(min_length=1)]


class _Values(BaseModel):
    """Field names mirror the dataclasses of grid_topology.model."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)


class _Properties(_Values):
    """The properties of one feature type, and how they become model data."""

    @abstractmethod
    def build(self, positions: tuple[Coordinate, ...]) -> _Item: ...


class _SubstationProperties(_Properties):
    name: _Text

    def build(self, positions: tuple[Coordinate, ...]) -> Substation:
        return Substation(location=positions[0], **self.model_dump())


class _NodeProperties(_Properties):
    ref: _Text
    voltage_kv: PositiveFloat
    substation: _Text | None = None
    is_source: bool

    def build(self, positions: tuple[Coordinate, ...]) -> Node:
        return Node(location=positions[0], **self.model_dump())


class _DeviceProperties(_Properties):
    asset_ref: _Text
    kind: DeviceKind
    from_node: _Text
    to_node: _Text
    normal_open: bool
    is_open: bool
    voltage_kv: PositiveFloat | None = None
    rating_kva: PositiveFloat | None = None
    substation: _Text | None = None
    remote_controlled: bool = False

    def build(self, positions: tuple[Coordinate, ...]) -> Device:
        return Device(path=positions, **self.model_dump())


class _FeederProperties(_Properties):
    name: _Text
    substation: _Text
    head: _Text

    def build(self, positions: tuple[Coordinate, ...]) -> Feeder:
        return Feeder(**self.model_dump())


class _CustomerValues(_Values):
    account: _Text
    name: _Text
    phone: Annotated[str, AfterValidator(_phone)]
    email: Annotated[str, AfterValidator(_email)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
    critical: _Text | None = None


class _PremiseProperties(_Properties):
    ref: _Text
    node: _Text
    address: _Text
    customer: _CustomerValues
    meter_id: _Text | None = None
    load_kw: NonNegativeFloat | None = None
    load_kvar: float | None = None

    def build(self, positions: tuple[Coordinate, ...]) -> Premise:
        return Premise(
            location=positions[0],
            customer=Customer(**self.customer.model_dump()),
            **self.model_dump(exclude={"customer"}),
        )


_SCHEMAS: dict[str, tuple[type[_Properties], tuple[str, ...]]] = {
    "substation": (_SubstationProperties, ("Point",)),
    "node": (_NodeProperties, ("Point",)),
    "device": (_DeviceProperties, ("Point", "LineString")),
    "feeder": (_FeederProperties, ()),
    "premise": (_PremiseProperties, ("Point",)),
}
"""properties.type -> (its properties, the geometry types it may have; none means null)."""

_IDENTITY = {
    "substation": "name",
    "node": "ref",
    "device": "asset_ref",
    "feeder": "name",
    "premise": "ref",
}
"""The property that names a feature of each type in problem reports."""


def _features(doc: Any) -> list[Any]:
    """The feature list; a document that is not an outage-grid/1 collection fails at once."""
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        raise GridFormatError(["the document must be a GeoJSON FeatureCollection"])
    grid_format = doc.get("grid_format")
    if grid_format != GRID_FORMAT:
        found = "is missing" if grid_format is None else f"is {grid_format!r}"
        raise GridFormatError([f"member grid_format {found}; expected {GRID_FORMAT!r}"])
    features = doc.get("features")
    if not isinstance(features, list):
        raise GridFormatError(["member features must be a list"])
    return features


def _parse_feature(feature: Any) -> _Item:
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise _Invalid(['not a GeoJSON Feature (needs "type": "Feature")'])
    properties = feature.get("properties")
    if not isinstance(properties, Mapping):
        raise _Invalid(["properties must be an object"])
    feature_type = properties.get("type")
    if not isinstance(feature_type, str) or feature_type not in _SCHEMAS:
        expected = ", ".join(_SCHEMAS)
        raise _Invalid([f"unknown properties.type {feature_type!r}; expected one of {expected}"])
    schema, geometry_types = _SCHEMAS[feature_type]
    messages = []
    try:
        values = schema.model_validate(properties)
    except ValidationError as error:
        messages += [_describe(e) for e in error.errors()]
    try:
        positions = _positions(feature.get("geometry"), geometry_types)
    except _Invalid as invalid:
        messages += invalid.messages
    if messages:
        raise _Invalid(messages)
    return values.build(positions)


def _describe(error: Any) -> str:
    name = ".".join(str(part) for part in error["loc"])
    if error["type"] == "missing":
        return f"missing required property {name!r}"
    if error["type"] == "model_type":
        return f"property {name!r} must be an object"
    return f"property {name!r}: {error['msg']} (got {_short(error['input'])})"


def _positions(geometry: Any, allowed: tuple[str, ...]) -> tuple[Coordinate, ...]:
    if not allowed:
        if geometry is not None:
            raise _Invalid(["geometry must be null"])
        return ()
    geometry_type = geometry.get("type") if isinstance(geometry, Mapping) else None
    if geometry_type not in allowed:
        found = "null" if geometry is None else repr(geometry_type)
        raise _Invalid([f"geometry must be {' or '.join(allowed)}, not {found}"])
    coordinates = geometry.get("coordinates")
    if geometry_type == "Point":
        return (_coordinate(coordinates),)
    if not isinstance(coordinates, list | tuple) or len(coordinates) < 2:
        raise _Invalid(["a LineString needs at least two positions"])
    return tuple(_coordinate(position) for position in coordinates)


def _coordinate(position: Any) -> Coordinate:
    numeric = isinstance(position, list | tuple) and all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in position
    )
    if not numeric or not 2 <= len(position) <= 3:
        raise _Invalid([f"a position must be [longitude, latitude], not {_short(position)}"])
    longitude, latitude = float(position[0]), float(position[1])
    if not -180 <= longitude <= 180:
        raise _Invalid([f"longitude {longitude} is outside [-180, 180]"])
    if not -90 <= latitude <= 90:
        raise _Invalid([f"latitude {latitude} is outside [-90, 90] (GeoJSON puts longitude first)"])
    return (longitude, latitude)


# Reading: the document as a whole


class _Problems:
    """Keeps the first MAX_PROBLEMS problems and counts the rest."""

    def __init__(self) -> None:
        self.listed: list[str] = []
        self.unlisted = 0

    def add(self, where: str, message: str) -> None:
        if len(self.listed) < MAX_PROBLEMS:
            self.listed.append(f"{where}: {message}")
        else:
            self.unlisted += 1

    def add_all(self, where: str, messages: Iterable[str]) -> None:
        for message in messages:
            self.add(where, message)

    def raise_if_any(self) -> None:
        if self.listed:
            raise GridFormatError(self.listed, self.unlisted)


def _where(index: int, feature_type: str, identity: object) -> str:
    return f"features[{index}] ({feature_type} {identity!r})"


def _raw_identity(feature: Any) -> tuple[str, str] | None:
    """(type, name) of a feature that failed validation, if its raw properties tell."""
    properties = feature.get("properties") if isinstance(feature, Mapping) else None
    if not isinstance(properties, Mapping):
        return None
    feature_type = properties.get("type")
    if not isinstance(feature_type, str) or feature_type not in _IDENTITY:
        return None
    identity = properties.get(_IDENTITY[feature_type])
    return (feature_type, identity) if isinstance(identity, str) else None


def _unique(
    items: list[tuple[int, Any]], feature_type: str, prop: str, problems: _Problems
) -> set[str]:
    """The values of `prop` (dotted for nested ones), with a problem for each repeated value."""
    value_of, identity_of = attrgetter(prop), attrgetter(_IDENTITY[feature_type])
    first: dict[str, int] = {}
    for index, item in items:
        value = value_of(item)
        if value in first:
            where = _where(index, feature_type, identity_of(item))
            problems.add(where, f"duplicate {prop} {value!r} (first at features[{first[value]}])")
        else:
            first[value] = index
    return set(first)


def _check_references(
    parsed: dict[type, list[tuple[int, Any]]], invalid: set[tuple[str, str]], problems: _Problems
) -> None:
    """Duplicate identities, and references to features that are not in the document.

    A reference to a feature that is there but invalid is not a problem of its own.
    """
    known = {
        "substation": _unique(parsed[Substation], "substation", "name", problems),
        "node": _unique(parsed[Node], "node", "ref", problems),
        "device": _unique(parsed[Device], "device", "asset_ref", problems),
    }
    _unique(parsed[Feeder], "feeder", "name", problems)
    _unique(parsed[Premise], "premise", "ref", problems)
    _unique(parsed[Premise], "premise", "customer.account", problems)

    def refer(where: str, prop: str, value: str | None, feature_type: str) -> None:
        missing = value not in known[feature_type] and (feature_type, value) not in invalid
        if value is not None and missing:
            problems.add(where, f"{prop} {value!r} is not a {feature_type} in the document")

    for index, node in parsed[Node]:
        refer(_where(index, "node", node.ref), "substation", node.substation, "substation")
    for index, device in parsed[Device]:
        where = _where(index, "device", device.asset_ref)
        refer(where, "from_node", device.from_node, "node")
        refer(where, "to_node", device.to_node, "node")
        refer(where, "substation", device.substation, "substation")
        if device.from_node == device.to_node:
            problems.add(where, "from_node and to_node are the same node")
    for index, feeder in parsed[Feeder]:
        where = _where(index, "feeder", feeder.name)
        refer(where, "substation", feeder.substation, "substation")
        refer(where, "head", feeder.head, "device")
    for index, premise in parsed[Premise]:
        refer(_where(index, "premise", premise.ref), "node", premise.node, "node")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
