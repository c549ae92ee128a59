"""The public outage map: customers out and when power should be back, per area.

One Realtime layer polls the aggregated GeoJSON (`maps.layers.public_geojson`, served from
a short-lived cache), so an open page follows the storm. The page's script
(`/static/map.js`, object `OutagePublic`) colours the areas and writes their popups as DOM
nodes, in the page's language.
"""

import json
from collections.abc import Mapping

from folium import JsCode
from folium.plugins import Realtime

from maps.page import Expose, MapPage, Tiles, add_tiles, new_map, render

PUBLIC_URL = "/api/v1/map/public.geojson"


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
