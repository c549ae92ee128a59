"""The crew page's small maps: one per job, where the crew is sent.

A Leaflet map per `<div class="job-map">`, drawn by `/static/crew-map.js` from the
element's data attributes (no inline script, so the CSP holds). The crew page puts
`STYLESHEETS` in its head, `SCRIPTS` at the end of its body, and `job_map(...)` where
each job's map goes.
"""

from markupsafe import Markup, escape

from maps.assets import LEAFLET_CSS, LEAFLET_JS, MAPS_CSS
from maps.page import Tiles

STYLESHEETS: tuple[str, ...] = (LEAFLET_CSS, MAPS_CSS)
SCRIPTS: tuple[str, ...] = (LEAFLET_JS, "/static/crew-map.js")

DEFAULT_ZOOM = 16


def job_map(
    lat: float, lon: float, *, label: str, tiles: Tiles, zoom: int = DEFAULT_ZOOM
) -> Markup:
    """The `<div>` of one job's map; `label` (the job's name or address) is escaped."""
    attributes = {
        "data-lat": f"{lat:.6f}",
        "data-lon": f"{lon:.6f}",
        "data-zoom": str(zoom),
        "data-label": label,
        "data-tiles": tiles.url,
        "data-attribution": tiles.attribution,
        "role": "img",
        "aria-label": label,
    }
    rendered = " ".join(f'{name}="{escape(value)}"' for name, value in attributes.items())
    return Markup(f'<div class="job-map" {rendered}></div>')
