"""Every catalogue complete in every language: the same keys, the same `{placeholders}`,
no empty text; the notification templates likewise; and words for every value of every
vocabulary the catalogues name (so a new enum member cannot go unlabelled)."""

import string
from collections.abc import Iterable
from pathlib import Path

import pytest
from jinja2 import Environment, meta, nodes

from dispatch.model import CrewStatus
from dispatch.priority import CRITICAL_WEIGHTS
from dispatch.replay import Policy
from grid_topology.model import DeviceKind
from maps import strings as map_strings
from outage.care.enums import RequestState, RequestType, SlaStanding
from outage.care.sla import AGE_BUCKETS
from outage.grid.enums import SwitchSource
from outage.i18n import CATALOGUES, DEFAULT_LANGUAGE, LANGUAGES, read_catalogue
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.intake.enums import Channel, Hazard, PingReason, ReportStatus, ServiceCode
from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.texts import TEMPLATES
from outage.open311.catalogue import SERVICES, Datatype
from outage.orders.enums import OrderState
from outage.outbox.enums import EventKind
from outage.pages.crew import CAUSES
from outage.storms.enums import StormAction, StormPhase

CODES = [language.value for language in LANGUAGES]


def _catalogues() -> dict[str, dict[str, Path]]:
    """Every catalogue by name ("pages", "maps"...): its file in each language."""
    found: dict[str, dict[str, Path]] = {}
    for code in CODES:
        for path in sorted((CATALOGUES / code).glob("*.json")):
            found.setdefault(path.stem, {})[code] = path
    found["maps"] = {code: map_strings.CATALOGUES / f"{code}.json" for code in CODES}
    return found


CATALOGUE_FILES = _catalogues()


def _words(name: str) -> dict[str, dict[str, str]]:
    return {code: read_catalogue(path) for code, path in CATALOGUE_FILES[name].items()}


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_every_language_has_every_catalogue() -> None:
    assert {path.name for path in CATALOGUES.iterdir() if path.is_dir()} == set(CODES)
    assert set(CATALOGUE_FILES) >= {"pages", "crew", "channels", "open311", "maps"}
    for name, files in CATALOGUE_FILES.items():
        assert set(files) == set(CODES), name
        assert all(path.is_file() for path in files.values()), name
    assert {path.stem for path in map_strings.CATALOGUES.glob("*.json")} == set(CODES)


def test_the_maps_fall_back_to_the_service_default() -> None:
    assert map_strings.FALLBACK_LANGUAGE == DEFAULT_LANGUAGE
    assert set(map_strings.LANGUAGES) == set(CODES)


@pytest.mark.parametrize("name", sorted(CATALOGUE_FILES))
def test_every_language_has_the_same_keys(name: str) -> None:
    words = _words(name)
    keys = set(words[DEFAULT_LANGUAGE])
    for code, table in words.items():
        assert not keys - set(table), f"{name}: missing in {code}: {sorted(keys - set(table))}"
        assert not set(table) - keys, f"{name}: only in {code}: {sorted(set(table) - keys)}"


@pytest.mark.parametrize("name", sorted(CATALOGUE_FILES))
def test_translations_keep_their_placeholders(name: str) -> None:
    words = _words(name)
    for key, text in words[DEFAULT_LANGUAGE].items():
        for code, table in words.items():
            assert _placeholders(table[key]) == _placeholders(text), f"{name}: {code} {key}"


@pytest.mark.parametrize("name", sorted(CATALOGUE_FILES))
def test_no_text_is_empty(name: str) -> None:
    for code, table in _words(name).items():
        empty = [key for key, text in table.items() if not text.strip()]
        assert not empty, f"{name}: empty in {code}: {empty}"


# --- the notification templates: one directory per language ------------------------------


def _template_variables(path: Path) -> tuple[set[str], set[str]]:
    """The blocks a template defines and the variables it reads."""
    environment = Environment()
    tree = environment.parse(path.read_text(encoding="utf-8"))
    blocks = {block.name for block in tree.find_all(nodes.Block)}
    return blocks, set(meta.find_undeclared_variables(tree))


def test_every_language_has_every_notification_template() -> None:
    names = {code: {p.name for p in (TEMPLATES / code).iterdir()} for code in CODES}
    assert {path.name for path in TEMPLATES.iterdir() if path.is_dir()} == set(CODES)
    assert names[DEFAULT_LANGUAGE], "no templates"
    for code in CODES:
        assert names[code] == names[DEFAULT_LANGUAGE], code


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (TEMPLATES / DEFAULT_LANGUAGE.value).iterdir())
)
def test_notification_templates_use_the_same_blocks_and_variables(name: str) -> None:
    expected = _template_variables(TEMPLATES / DEFAULT_LANGUAGE.value / name)
    for code in CODES:
        assert _template_variables(TEMPLATES / code / name) == expected, f"{code}/{name}"


# --- the vocabularies: every member of every enum has its words ---------------------------


def _values(members: Iterable[object]) -> set[str]:
    return {str(member) for member in members}


SERVICE_CODES = set(SERVICES) | _values(RequestType) | _values(ServiceCode)
LIST_ATTRIBUTES = {
    attribute.value_names: set(attribute.values)
    for service in SERVICES.values()
    for attribute in service.attributes
    if attribute.datatype is Datatype.SINGLEVALUELIST
}

TABLES: list[tuple[str, str, set[str]]] = [
    ("pages", "hazard", _values(Hazard) | {"none"}),
    ("pages", "report_status", _values(ReportStatus)),
    ("pages", "agent_status", _values(ReportStatus)),
    ("pages", "channel", _values(Channel)),
    ("pages", "request_state", _values(RequestState)),
    ("pages", "sla", _values(SlaStanding)),
    ("pages", "age", {bucket.key for bucket in AGE_BUCKETS}),
    ("pages", "incident_status", _values(IncidentStatus)),
    ("pages", "critical", set(CRITICAL_WEIGHTS)),
    ("pages", "delivery_channel", _values(DeliveryChannel)),
    ("pages", "delivery_status", _values(DeliveryStatus)),
    ("pages", "notification_kind", _values(EventKind)),
    ("pages", "storm_action", _values(StormAction)),
    ("pages", "storm_phase", _values(StormPhase)),
    ("pages", "device_kind", _values(DeviceKind)),
    ("pages", "switch_source", _values(SwitchSource)),
    ("pages", "order_state", _values(OrderState)),
    ("pages", "replay_policy", _values(Policy)),
    ("crew", "crew_state", _values(IncidentStatus)),
    ("crew", "cause", set(CAUSES)),
    ("channels", "status", _values(ReportStatus) | {"unknown"}),
    ("open311", "hazard", _values(Hazard)),
    *(("open311", table, values) for table, values in LIST_ATTRIBUTES.items()),
]
"""(catalogue, table, values): the keys `<table>.<value>` are exactly these values."""


@pytest.mark.parametrize(
    ("name", "table", "values"), TABLES, ids=[f"{name}-{table}" for name, table, _ in TABLES]
)
def test_every_value_of_a_vocabulary_has_words(name: str, table: str, values: set[str]) -> None:
    for code, words in _words(name).items():
        keys = {key.removeprefix(f"{table}.") for key in words if key.startswith(f"{table}.")}
        assert keys == values, f"{name} {code} {table}: {sorted(keys ^ values)}"


def test_every_open311_service_and_attribute_has_words() -> None:
    for code, words in _words("open311").items():
        services = {key.split(".")[1] for key in words if key.startswith("service.")}
        assert services == SERVICE_CODES, code
        for service_code in SERVICE_CODES:
            assert f"service.{service_code}.name" in words, (code, service_code)
            assert f"service.{service_code}.description" in words, (code, service_code)
        for service in SERVICES.values():
            assert f"group.{service.group}" in words, (code, service.code)
            for attribute in service.attributes:
                assert f"attribute.{attribute.code}.description" in words
                described = f"attribute.{attribute.code}.datatype_description" in words
                assert described == attribute.datatype_described, attribute.code
        notes = {
            "report_status_note": _values(ReportStatus),
            "request_state_note": _values(RequestState),
        }
        for table, values in notes.items():
            keys = {key.removeprefix(f"{table}.") for key in words if key.startswith(f"{table}.")}
            assert keys and keys <= values, (code, table)


def test_the_maps_name_every_value_their_scripts_show() -> None:
    for code, words in _words("maps").items():
        assert {k.removeprefix("hazard_") for k in words if k.startswith("hazard_")} == _values(
            Hazard
        ), code
        assert {k.removeprefix("status_") for k in words if k.startswith("status_")} == _values(
            ACTIVE
        ), code
        assert all(f"crew_{status}" in words for status in CrewStatus), code
        assert all(f"device_{kind}" in words for kind in DeviceKind), code
        assert all(f"channel_{channel}" in words for channel in Channel), code
        assert all(f"source_{source}" in words for source in SwitchSource), code
        assert all(f"cause_{cause}" in words for cause in CAUSES), code
        assert all(f"ping_reason_{reason}" in words for reason in PingReason), code


def test_a_catalogue_is_one_object_of_strings(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text('{"a.b": "Xin chào {name}"}', encoding="utf-8")
    assert read_catalogue(tmp_path / "good.json") == {"a.b": "Xin chào {name}"}
    for bad in ('["a"]', '{"a": 1}', '{"a": {"b": "c"}}'):
        (tmp_path / "bad.json").write_text(bad, encoding="utf-8")
        with pytest.raises(ValueError, match="one JSON object of strings"):
            read_catalogue(tmp_path / "bad.json")
