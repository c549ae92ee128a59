"""A job's sketch: the network drawn from our records, with the job and the crew."""

from markupsafe import escape

from grid_topology.model import DeviceKind
from outage.grid.nearby import NearbyDevice
from outage.i18n import Language
from outage.pages.crew import strings
from outage.pages.crew_sketch import Sketch, render

HERE = (105.85, 21.03)
LINE = NearbyDevice("L-1", DeviceKind.LINE, False, (((105.849, 21.03), (105.851, 21.03)),))
FUSE = NearbyDevice("<b>F-1</b>", DeviceKind.FUSE, True, ((HERE,),))
T = strings(Language.EN)


def test_lines_are_drawn_and_the_jobs_device_marked() -> None:
    drawn = render(Sketch(HERE, 250.0, [FUSE, LINE], FUSE.asset_ref, None), T)
    assert (
        '<g class="net line"><title>L-1</title><polyline points="-103.9,0.0 103.9,0.0"/>' in drawn
    )
    assert '<g class="net fuse open job"><title>&lt;b&gt;F-1&lt;/b&gt;</title><rect' in drawn
    assert "<b>" not in drawn
    assert f"{escape(T['crew_map_job'])}: &lt;b&gt;F-1&lt;/b&gt;" in drawn


def test_a_crew_far_away_is_put_on_the_edge_with_its_distance() -> None:
    far = (HERE[0], HERE[1] + 0.02)  # 2.2 km north
    drawn = render(Sketch(HERE, 250.0, [LINE], None, far), T)
    assert '<circle class="crew" cx="0.0" cy="-236.5"' in drawn
    assert T["crew_map_crew_away"].format(km="2.2") in drawn


def test_a_crew_nearby_is_drawn_where_it_is() -> None:
    drawn = render(Sketch(HERE, 250.0, [LINE], None, (HERE[0], HERE[1] - 0.001)), T)
    assert '<circle class="crew" cx="0.0" cy="111.3"' in drawn
    assert f'<li class="key-crew">{T["crew_map_crew"]}</li>' in drawn


def test_with_no_network_near_it_says_so() -> None:
    drawn = render(Sketch(HERE, 250.0, [], None, None), T)
    assert T["crew_map_nothing"] in drawn
