"""The public outage map: customers out and when power should be back, per area.

One Realtime layer polls the aggregated GeoJSON (`maps.layers.public_geojson`, served from
a short-lived cache), so an open page follows the storm. The page's script
(`/static/map.js`, object `OutagePublic`) colours the areas and writes their popups as DOM
nodes, in the page's language.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from folium import JsCode
from folium.plugins import Realtime

from maps.page import Expose, MapPage, Tiles, add_tiles, new_map, render

PUBLIC_URL = "/api/v1/map/public.geojson"


@dataclass(frozen=True)
class Band:
    """One shade of the outage areas: from `lowest` customers out up to the next band's."""

    lowest: int
    highest: int | None
    """None: and more."""
    colour: str


SHADE_STEPS = ((20, "#f59e0b"), (100, "#ea580c"), (500, "#b91c1c"), (None, "#7f1d1d"))
"""Each shade's colour and the customers out where the next begins: the one scale the
map's areas and its legend share."""


def bands(min_customers: int) -> list[Band]:
    """The shades as the legend tells them: an area shows from `min_customers` out."""
    found: list[Band] = []
    lowest = min_customers
    for upper, colour in SHADE_STEPS:
        if upper is not None and upper <= lowest:
            continue
        found.append(Band(lowest, None if upper is None else upper - 1, colour))
        if upper is not None:
            lowest = upper
    return found


def build(*, tiles: Tiles, poll_ms: int, t: Mapping[str, str]) -> MapPage:
    """The map in the language of `t`; it fits itself to the service territory on load."""
    public = new_map()
    add_tiles(public, tiles, t["layer_base"])
    areas = Realtime(
        JsCode(f"OutagePublic.source({json.dumps(PUBLIC_URL)})"),
        interval=poll_ms,
        remove_missing=True,
        get_feature_id=JsCode("OutagePublic.featureId"),
        style=JsCode("OutagePublic.areaStyle"),
        on_each_feature=JsCode("OutagePublic.areaFeature"),
    )
    areas.layer_name = t["layer_outages"]
    areas.add_to(public)
    Expose("map", public).add_to(public)
    Expose("areas", areas).add_to(public)
    return render(public, "public")
