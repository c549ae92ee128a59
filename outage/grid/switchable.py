"""Finding the device a crew operated: by part of its reference, or nearest to where the
crew works. Only switchable devices (what `operate` accepts) are found."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from grid_topology.model import SWITCHING_KINDS, Coordinate, DeviceKind
from outage.grid.models import Device


@dataclass(frozen=True)
class SwitchableDevice:
    asset_ref: str
    kind: DeviceKind
    is_open: bool
    normal_open: bool


def _query() -> Select[tuple[str, DeviceKind, bool, bool]]:
    return select(Device.asset_ref, Device.kind, Device.is_open, Device.normal_open).where(
        Device.kind.in_(sorted(SWITCHING_KINDS))
    )


def _found(rows: Sequence[tuple[str, DeviceKind, bool, bool]]) -> list[SwitchableDevice]:
    return [SwitchableDevice(ref, DeviceKind(kind), o, n) for ref, kind, o, n in rows]


def matching(session: Session, text: str, *, limit: int) -> list[SwitchableDevice]:
    """Switchable devices whose reference holds `text` (any case), those starting with it
    first."""
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    reference = func.lower(Device.asset_ref)
    rows = session.execute(
        _query()
        .where(Device.asset_ref.ilike(f"%{pattern}%", escape="\\"))
        .order_by(reference.startswith(text.lower()).desc(), Device.asset_ref)
        .limit(limit)
    )
    return _found(rows.tuples().all())


def nearest(
    session: Session, places: Sequence[Coordinate], *, each: int, limit: int
) -> list[SwitchableDevice]:
    """The `each` switchable devices nearest to each place, the first place's first, at most
    `limit` in all, each once."""
    seen: dict[str, SwitchableDevice] = {}
    for lon, lat in places:
        here = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
        by_distance = _query().order_by(Device.geom.op("<->")(here), Device.asset_ref)
        rows = session.execute(by_distance.limit(each))
        for device in _found(rows.tuples().all()):
            seen.setdefault(device.asset_ref, device)
    return list(seen.values())[:limit]
