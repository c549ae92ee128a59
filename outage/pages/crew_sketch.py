"""A job's sketch on the crew page: the network near the job drawn as inline SVG from our
own records, so it shows something useful with no map tiles (a storm, a weak signal).

North is up; the sketch is twice `radius_m` metres wide, centred on the job. It draws the
lines and devices near the job (an open one dashed), the job's device in red, and the
crew's last known position in blue, on the edge towards it when it is farther away (the
legend then says how far). Every text is escaped.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from grid_topology.model import Coordinate
from outage.grid.nearby import METRES_PER_DEGREE, NearbyDevice

MARK_SHARE = 0.018
"""A device's mark, as a share of the sketch's width (the job's is twice as big)."""


@dataclass(frozen=True)
class Sketch:
    centre: Coordinate
    radius_m: float
    devices: Sequence[NearbyDevice]
    job_device: str | None
    crew: Coordinate | None


def _metres(place: Coordinate, centre: Coordinate) -> tuple[float, float]:
    """East and south of the centre, in metres (SVG's y grows downwards)."""
    lon0, lat0 = centre
    east = (place[0] - lon0) * METRES_PER_DEGREE * math.cos(math.radians(lat0))
    south = (lat0 - place[1]) * METRES_PER_DEGREE
    return east, south


def _points(path: Sequence[Coordinate], centre: Coordinate) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in (_metres(p, centre) for p in path))


def _device(device: NearbyDevice, sketch: Sketch, mark: float) -> str:
    classes = ["net", device.kind.value]
    if device.is_open:
        classes.append("open")
    if device.asset_ref == sketch.job_device:
        classes.append("job")
        mark *= 2
    shapes = []
    for path in device.paths:
        if len(path) == 1:
            x, y = _metres(path[0], sketch.centre)
            shapes.append(
                f'<rect x="{x - mark / 2:.1f}" y="{y - mark / 2:.1f}"'
                f' width="{mark:.1f}" height="{mark:.1f}"/>'
            )
        else:
            shapes.append(f'<polyline points="{_points(path, sketch.centre)}"/>')
    title = f"<title>{escape(device.asset_ref)}</title>"
    return f'<g class="{" ".join(classes)}">{title}{"".join(shapes)}</g>'


def _crew(sketch: Sketch, mark: float, t: Mapping[str, str]) -> tuple[str, str | None]:
    """The crew's mark (on the edge when it is out of the sketch) and how far it is then."""
    if sketch.crew is None:
        return "", None
    x, y = _metres(sketch.crew, sketch.centre)
    far = max(abs(x), abs(y))
    away = None
    if far > sketch.radius_m:
        away = t["crew_map_crew_away"].format(km=f"{math.hypot(x, y) / 1000:.1f}")
        shrink = (sketch.radius_m - 1.5 * mark) / far
        x, y = x * shrink, y * shrink
    title = escape(away or t["crew_map_crew"])
    circle = (
        f'<circle class="crew" cx="{x:.1f}" cy="{y:.1f}" r="{mark * 1.5:.1f}">'
        f"<title>{title}</title></circle>"
    )
    return circle, away


def render(sketch: Sketch, t: Mapping[str, str]) -> Markup:
    """The sketch's SVG and its legend."""
    r = sketch.radius_m
    mark = 2 * r * MARK_SHARE
    ordered = sorted(sketch.devices, key=lambda d: d.asset_ref == sketch.job_device)
    drawn = "".join(_device(device, sketch, mark) for device in ordered)
    crew, away = _crew(sketch, mark, t)
    centre = f'<circle class="here" cx="0" cy="0" r="{mark * 2.5:.1f}"/>'
    svg = (
        f'<svg class="sketch" viewBox="{-r:.0f} {-r:.0f} {2 * r:.0f} {2 * r:.0f}"'
        f' role="img" aria-label="{escape(t["crew_map_lines"])}">'
        f"{drawn}{centre}{crew}</svg>"
    )
    legend = [f'<li class="key-lines">{escape(t["crew_map_lines"])}</li>']
    if sketch.job_device:
        legend.append(
            f'<li class="key-job">{escape(t["crew_map_job"])}: {escape(sketch.job_device)}</li>'
        )
    if sketch.crew is not None:
        legend.append(f'<li class="key-crew">{escape(away or t["crew_map_crew"])}</li>')
    if not sketch.devices:
        legend.append(f'<li class="key-nothing">{escape(t["crew_map_nothing"])}</li>')
    return Markup(f'{svg}<ul class="sketch-legend">{"".join(legend)}</ul>')
