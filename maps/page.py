"""A folium map taken apart for a strict Content-Security-Policy.

folium writes one HTML document with inline `<script>` and `<style>` blocks, which our
CSP refuses. `render` instead returns the parts: the map's `<div>`, the library links
(all local, see `maps.assets`) and the map's script, which the app serves as a file of
its own. Element ids are numbered rather than random, so every worker process builds
the same script for the same page.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium import Map, TileLayer
from folium.template import Template

from maps.assets import MAPS_CSS, is_local

MAX_ZOOM = 19
"""Street level; the maps need it set even without tiles (clustering depends on it)."""


@dataclass(frozen=True)
class MapPage:
    """What a page needs to show one map."""

    div: str
    """The map's `<div>` (folium's markup, no customer data)."""
    stylesheets: tuple[str, ...]
    scripts: tuple[str, ...]
    """Leaflet and the plugins, in load order; the map's own script comes after them."""
    script: str
    """The map's script: creates the map and its layers, and exposes them to the page's
    script through `OutageMaps.expose`."""

    @property
    def version(self) -> str:
        """Changes whenever the script does: the page links the script with it, so a
        browser never runs an old script on a new page."""
        return hashlib.blake2b(self.script.encode(), digest_size=8).hexdigest()


class Expose(MacroElement):
    """Hands a layer (or the map) to the page's script under a name of ours."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            OutageMaps.expose({{ this.key|tojson }}, {{ this.target.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, target: Element) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's own, untyped
        self._name = "Expose"
        self.key = key
        self.target = target


@dataclass(frozen=True)
class Tiles:
    """The base layer as configured (`OUTAGE_MAP_TILE_URL`)."""

    url: str
    """Tile URL template; empty for none (an offline control room)."""
    attribution: str


def new_map() -> Map:
    """An empty map of the whole world; the page's script fits it to the network once the
    data arrives."""
    folium_map = Map(location=None, tiles=None, control_scale=True)
    folium_map.options["max_zoom"] = MAX_ZOOM  # folium gives max_zoom to its tiles only
    return folium_map


def add_tiles(folium_map: Map, tiles: Tiles, name: str) -> None:
    """The base layer, unless tiles are turned off."""
    if tiles.url:
        TileLayer(tiles=tiles.url, attr=tiles.attribution, name=name, max_zoom=MAX_ZOOM).add_to(
            folium_map
        )


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def render(folium_map: Map, name: str) -> MapPage:
    """The map's parts; raises if any library would come from another site."""
    for number, element in enumerate(_walk(folium_map)):
        element._id = f"{name}{number}"  # folium's default is a random uuid
    figure = folium_map.get_root()
    assert isinstance(figure, Figure)
    figure.render()
    links = list(figure.header._children.values())
    scripts = tuple(link.url for link in links if isinstance(link, JavascriptLink))
    stylesheets = tuple(link.url for link in links if isinstance(link, CssLink))
    remote = [url for url in (*scripts, *stylesheets) if not is_local(url)]
    if remote:
        raise ValueError(f"map libraries must be served locally, not from {remote}")
    return MapPage(
        div=figure.html.render().strip(),
        stylesheets=(*stylesheets, MAPS_CSS),
        scripts=scripts,
        script=figure.script.render().strip() + "\n",
    )
