"""The maps as folium builds them: local libraries only, no inline markup, same in every
worker, the configured tiles."""

import json
import re

import pytest

from maps import assets, dispatcher, public
from maps.page import MapPage, Tiles
from maps.strings import strings

OSM = Tiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap")
NO_TILES = Tiles("", "")

BUILDERS = {"dispatch": dispatcher.build, "public": public.build}


@pytest.fixture(autouse=True)
def local_assets() -> None:
    assets.use_local_assets()


def build(which: str, tiles: Tiles = OSM, language: str = "en") -> MapPage:
    return BUILDERS[which](tiles=tiles, poll_ms=5000, t=strings(language))


@pytest.mark.parametrize("which", BUILDERS)
def test_every_library_is_served_by_the_app(which: str) -> None:
    page = build(which)
    assert page.scripts[0] == assets.LEAFLET_JS
    for url in (*page.scripts, *page.stylesheets):
        assert url.startswith("/static/"), url
    assert "http" not in " ".join((*page.scripts, *page.stylesheets))


@pytest.mark.parametrize("which", BUILDERS)
def test_the_script_is_the_same_in_every_process(which: str) -> None:
    first, second = build(which), build(which)
    assert first.script == second.script
    assert first.div == second.div
    assert first.version == second.version


@pytest.mark.parametrize("which", BUILDERS)
def test_the_script_is_plain_javascript_without_markup(which: str) -> None:
    page = build(which)
    assert "<script" not in page.script and "<style" not in page.script
    assert re.fullmatch(r'<div class="folium-map" id="map_\w+" ></div>', page.div)
    assert 'OutageMaps.expose("map"' in page.script


def test_the_configured_tile_server_is_used() -> None:
    local = Tiles("/tiles/{z}/{x}/{y}.png", "Local tiles")
    page = build("public", local)
    assert '"/tiles/{z}/{x}/{y}.png"' in page.script
    assert "tile.openstreetmap.org" not in page.script


@pytest.mark.parametrize("which", BUILDERS)
def test_without_tiles_there_is_no_base_layer(which: str) -> None:
    assert "L.tileLayer" not in build(which, NO_TILES).script
    assert "L.tileLayer" in build(which, OSM).script


def test_the_dispatcher_map_polls_every_data_layer() -> None:
    script = build("dispatch").script
    for url in (
        dispatcher.INCIDENTS_URL,
        dispatcher.AREAS_URL,
        dispatcher.REPORTS_URL,
        dispatcher.CREWS_URL,
        dispatcher.NETWORK_URL,
    ):
        assert url in script
    assert script.count('"interval": 5000') == 5
    for key in ("incidents", "areas", "reports", "heat", "crews", "network"):
        assert f'OutageMaps.expose("{key}"' in script
    assert "L.control.layers" in script


@pytest.mark.parametrize("language", ["vi", "en"])
def test_layer_names_are_in_the_page_language(language: str) -> None:
    name = json.dumps(strings(language)["layer_incidents"])  # as folium writes it
    assert f"{name} : realtime_" in build("dispatch", language=language).script
