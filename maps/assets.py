"""The map libraries served by the app itself, and folium pointed at them.

folium links Leaflet and its plugins from public CDNs; a control room without internet
would get blank maps. `use_local_assets()` (called once at start-up) replaces those
links with the copies under `/static/vendor/` (see its README for versions and
licences), and drops folium's defaults the maps do not use (jQuery, Bootstrap, Font
Awesome). A builder that meets a link still pointing elsewhere refuses to build.
"""

from folium import Map
from folium.plugins import HeatMap, MarkerCluster, Realtime

VENDOR = "/static/vendor"

LEAFLET_JS = f"{VENDOR}/leaflet/leaflet.js"
LEAFLET_CSS = f"{VENDOR}/leaflet/leaflet.css"
MARKERCLUSTER_JS = f"{VENDOR}/leaflet.markercluster/leaflet.markercluster.js"
MARKERCLUSTER_CSS = f"{VENDOR}/leaflet.markercluster/MarkerCluster.css"
MARKERCLUSTER_DEFAULT_CSS = f"{VENDOR}/leaflet.markercluster/MarkerCluster.Default.css"
REALTIME_JS = f"{VENDOR}/leaflet-realtime/leaflet-realtime.min.js"
HEAT_JS = f"{VENDOR}/leaflet.heat/leaflet-heat.js"

MAPS_CSS = "/static/maps.css"
"""Our own styles of the map pages (folium's inline ones are not allowed by the CSP)."""


def use_local_assets() -> None:
    """Point folium's Leaflet and plugin links at our copies (idempotent)."""
    Map.default_js = [("leaflet", LEAFLET_JS)]
    Map.default_css = [("leaflet_css", LEAFLET_CSS)]
    MarkerCluster.default_js = [("markerclusterjs", MARKERCLUSTER_JS)]
    MarkerCluster.default_css = [
        ("markerclustercss", MARKERCLUSTER_CSS),
        ("markerclusterdefaultcss", MARKERCLUSTER_DEFAULT_CSS),
    ]
    Realtime.default_js = [("Leaflet_Realtime_js", REALTIME_JS)]
    HeatMap.default_js = [("leaflet-heat.js", HEAT_JS)]


def is_local(url: str) -> bool:
    """Served by this app: a path on our own origin."""
    return url.startswith("/") and not url.startswith("//")
