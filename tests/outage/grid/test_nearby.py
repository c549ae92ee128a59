"""The network around a place, for a crew's sketch of a job."""

from grid_topology.model import DeviceKind, GridModel
from outage.db import session_factory, session_scope
from outage.grid import nearby


def test_the_devices_near_a_place_come_with_their_paths_the_nearest_first(
    grid_database: str, sample_grid: GridModel
) -> None:
    fuse = next(d for d in sample_grid.devices if d.kind is DeviceKind.FUSE)
    here = fuse.path[0]
    with session_scope(session_factory(grid_database)) as session:
        found = nearby.devices_near(session, here, radius_m=300, limit=50)
    assert fuse.asset_ref in {device.asset_ref for device in found}
    lines = [device for device in found if device.kind is DeviceKind.LINE]
    assert lines and all(len(path) >= 2 for line in lines for path in line.paths)
    assert any(here in path for path in found[0].paths), "the nearest touches the place"


def test_no_more_devices_than_asked_and_none_far_away(
    grid_database: str, sample_grid: GridModel
) -> None:
    here = next(d for d in sample_grid.devices if d.kind is DeviceKind.FUSE).path[0]
    with session_scope(session_factory(grid_database)) as session:
        few = nearby.devices_near(session, here, radius_m=300, limit=3)
        none = nearby.devices_near(session, (here[0] + 1.0, here[1]), radius_m=300, limit=50)
    assert len(few) == 3
    assert none == []
