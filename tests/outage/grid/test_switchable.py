"""Finding the device a crew operated: by part of its reference, or near its jobs."""

from grid_topology.model import SWITCHING_KINDS, DeviceKind, GridModel
from outage.db import session_factory, session_scope
from outage.grid import switchable


def test_a_search_puts_references_starting_with_the_text_first(
    grid_database: str, sample_grid: GridModel
) -> None:
    fuse = next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE)
    prefix = fuse.split()[0]
    with session_scope(session_factory(grid_database)) as session:
        found = switchable.matching(session, prefix.lower(), limit=500)
        wildcard = switchable.matching(session, "%_", limit=5)
    refs = [device.asset_ref for device in found]
    starting = [ref.lower().startswith(prefix.lower()) for ref in refs]
    assert fuse in refs and starting == sorted(starting, reverse=True)
    assert all(device.kind in SWITCHING_KINDS for device in found)
    assert wildcard == [], "the text is matched as written, not as a pattern"


def test_the_devices_nearest_each_place_come_once_the_nearest_first(
    grid_database: str, sample_grid: GridModel
) -> None:
    fuse = next(d for d in sample_grid.devices if d.kind is DeviceKind.FUSE)
    here = fuse.path[0]
    at_the_fuse = sorted(
        d.asset_ref for d in sample_grid.devices if d.kind in SWITCHING_KINDS and here in d.path
    )
    with session_scope(session_factory(grid_database)) as session:
        found = switchable.nearest(session, [here, here], each=5, limit=8)
    refs = [device.asset_ref for device in found]
    assert refs[: len(at_the_fuse)] == at_the_fuse[:5]
    assert len(refs) == len(set(refs)) == 5
