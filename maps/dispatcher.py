"""The dispatcher's live map: incidents by state on their predicted device, the affected
areas, customer reports (clustered, and as a heat map), crews where they are, and the
network as it stands (line sections coloured by the feeder feeding them now, those
without supply apart, devices out of their normal state marked), each a layer that can
be switched off. The legend of the network's colours is beside the map; that of the
symbols (incidents by state, hazards, crews, reports, areas) on it.

Every data layer is a Realtime layer polling its GeoJSON endpoint, so the map follows the
storm without a reload. How features look and what their popups say is up to the page's
scripts (`/static/dispatch.js`, object `OutageDispatch`, drawing its symbols with
`/static/dispatch-symbols.js`): a marker whose symbol changes is drawn anew; popups are
built as DOM nodes from the features' properties, so text a customer typed is never
parsed as markup.
"""

import json
from collections.abc import Mapping
from typing import Any

from folium import JsCode, LayerControl
from folium.plugins import HeatMap, MarkerCluster, Realtime

from maps.page import Expose, MapPage, Tiles, add_tiles, new_map, render

INCIDENTS_URL = "/api/v1/incidents.geojson"
AREAS_URL = "/api/v1/map/areas.geojson"
REPORTS_URL = "/api/v1/map/reports.geojson"
CREWS_URL = "/api/v1/map/crews.geojson"
NETWORK_URL = "/api/v1/map/network.geojson"

ZOOM_SNAP = 0.25
"""Zoom in quarter steps: fitting the network to whole zoom levels leaves it as little as
half the map's height (a tall network on a wide screen, a sliver of its width)."""


def _js(name: str) -> JsCode:
    return JsCode(f"OutageDispatch.{name}")


def _realtime(source: str, interval_ms: int, name: str, key: str, **options: Any) -> Realtime:
    layer = Realtime(
        JsCode(f"OutageDispatch.source({json.dumps(key)}, {json.dumps(source)})"),
        interval=interval_ms,
        remove_missing=True,
        get_feature_id=JsCode("OutageDispatch.featureId"),
        **options,
    )
    layer.layer_name = name  # folium names a Realtime layer after its id otherwise
    return layer


def build(*, tiles: Tiles, poll_ms: int, t: Mapping[str, str]) -> MapPage:
    """The map in the language of `t` (its layer names); the data comes later, by polling."""
    live = new_map()
    live.options["zoom_snap"] = ZOOM_SNAP
    add_tiles(live, tiles, t["layer_base"])

    network = _realtime(
        NETWORK_URL,
        poll_ms,
        t["layer_network"],
        "network",
        style=_js("networkStyle"),
        point_to_layer=_js("substationMarker"),
        on_each_feature=_js("networkFeature"),
    )
    areas = _realtime(
        AREAS_URL,
        poll_ms,
        t["layer_areas"],
        "areas",
        style=_js("areaStyle"),
        on_each_feature=_js("areaFeature"),
    )
    incidents = _realtime(
        INCIDENTS_URL,
        poll_ms,
        t["layer_incidents"],
        "incidents",
        style=_js("incidentStyle"),
        point_to_layer=_js("incidentMarker"),
        update_feature=_js("updateFeature"),
        on_each_feature=_js("incidentFeature"),
    )
    clusters = MarkerCluster(name=t["layer_reports"], show=True)
    reports = _realtime(
        REPORTS_URL,
        poll_ms,
        t["layer_reports"],
        "reports",
        container=clusters,
        point_to_layer=_js("reportMarker"),
        on_each_feature=_js("reportFeature"),
    )
    reports.control = False  # switched with its cluster layer
    heat = HeatMap([], name=t["layer_heat"], radius=20, blur=15, min_opacity=0.3, show=False)
    crews = _realtime(
        CREWS_URL,
        poll_ms,
        t["layer_crews"],
        "crews",
        point_to_layer=_js("crewMarker"),
        update_feature=_js("updateFeature"),
        on_each_feature=_js("crewFeature"),
    )
    network.add_to(live)
    for layer in (areas, incidents, clusters, reports, heat, crews):
        layer.add_to(live)
    LayerControl(collapsed=False).add_to(live)
    for key, element in (
        ("map", live),
        ("network", network),
        ("areas", areas),
        ("incidents", incidents),
        ("reports", reports),
        ("heat", heat),
        ("crews", crews),
    ):
        Expose(key, element).add_to(live)
    return render(live, "dispatch")
