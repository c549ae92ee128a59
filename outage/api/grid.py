"""HTTP routes for the network: device lookup and tracing, and the live switching state."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind
from outage import clock
from outage.grid import service, switchable, switching
from outage.grid.enums import SwitchSource
from outage.intake.enums import SwitchState
from outage.intake.service import check_event_times
from outage.web.deps import MAX_OFFSET, SessionDep, SettingsDep, TopologyDep
from outage.web.principal import PrincipalDep, require

router = APIRouter(prefix="/api/v1/grid", tags=["grid"])
reading = [Depends(require("grid.read"))]
operating = [Depends(require("grid.operate"))]

SEARCH_LIMIT = 20
"""Devices a search for one to operate answers at most: enough to pick from on a phone."""


class DeviceOut(BaseModel):
    asset_ref: str
    kind: DeviceKind
    is_protective: bool
    normal_open: bool
    is_open: bool
    voltage_kv: float | None
    rating_kva: float | None
    feeder: str | None
    substation: str | None
    geometry: dict[str, Any]


class DeviceDetailOut(DeviceOut):
    energized: bool
    customers_downstream: int
    upstream_protective: list[str]


class TracedDevice(BaseModel):
    asset_ref: str
    kind: DeviceKind
    is_open: bool
    customers_downstream: int


class TraceOut(BaseModel):
    asset_ref: str
    direction: Literal["down", "up"]
    devices: list[TracedDevice]
    transformers: list[TracedDevice]
    customers: int
    """Customers supplied through the traced device (down), or by it (up)."""


def _device_or_404(session: Session, asset_ref: str) -> service.DeviceInfo:
    device = service.get_device(session, asset_ref)
    if device is None:
        raise HTTPException(status_code=404, detail=f"no device with asset_ref {asset_ref!r}")
    return device


@router.get("/devices", response_model=list[DeviceOut], dependencies=reading)
def list_devices(
    session: SessionDep,
    kind: DeviceKind | None = None,
    feeder: str | None = None,
    protective: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[service.DeviceInfo]:
    return service.list_devices(
        session, kind=kind, feeder=feeder, protective=protective, limit=limit, offset=offset
    )


@router.get("/devices/{asset_ref:path}", response_model=DeviceDetailOut, dependencies=reading)
def get_device(asset_ref: str, session: SessionDep, live: TopologyDep) -> DeviceDetailOut:
    device = _device_or_404(session, asset_ref)
    topology = live.energized(session)
    links = topology.network.links
    return DeviceDetailOut(
        **device.__dict__,
        energized=topology.is_device_energized(asset_ref),
        customers_downstream=topology.customer_counts().get(asset_ref, 0),
        upstream_protective=[
            ref for ref in topology.upstream(asset_ref).devices if links[ref].is_protective
        ],
    )


@router.get("/trace/{asset_ref:path}", response_model=TraceOut, dependencies=reading)
def trace(
    asset_ref: str,
    session: SessionDep,
    live: TopologyDep,
    direction: Literal["down", "up"] = "down",
) -> TraceOut:
    device = _device_or_404(session, asset_ref)
    topology = live.energized(session)
    links, counts = topology.network.links, topology.customer_counts()
    found = topology.downstream(asset_ref) if direction == "down" else topology.upstream(asset_ref)
    traced = [
        TracedDevice(
            asset_ref=ref,
            kind=links[ref].kind,
            is_open=links[ref].is_open,
            customers_downstream=counts.get(ref, 0),
        )
        for ref in found.devices
    ]
    return TraceOut(
        asset_ref=device.asset_ref,
        direction=direction,
        devices=traced,
        transformers=[t for t in traced if t.kind is DeviceKind.TRANSFORMER],
        customers=counts.get(asset_ref, 0),
    )


@router.get("/abnormal", response_model=list[switching.AbnormalDevice], dependencies=reading)
def abnormal(session: SessionDep) -> list[switching.AbnormalDevice]:
    """Every device not in its normal state, longest first: what to return to normal."""
    return switching.abnormal_devices(session)


class OperationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_ref: Annotated[str, Field(min_length=1, max_length=200)]
    state: SwitchState
    occurred_at: AwareDatetime
    reason: Annotated[str | None, Field(max_length=500)] = None


@router.get("/switchable", response_model=list[switchable.SwitchableDevice], dependencies=operating)
def find_switchable(
    session: SessionDep, q: Annotated[str, Query(min_length=1, max_length=200)]
) -> list[switchable.SwitchableDevice]:
    """Switchable devices whose reference holds `q`, those starting with it first: finding
    the device to report operated (a crew holds no `grid.read`)."""
    return switchable.matching(session, q, limit=SEARCH_LIMIT)


@router.post("/operations", response_model=switching.SwitchOutcome, dependencies=operating)
def operate(
    operation: OperationIn,
    session: SessionDep,
    principal: PrincipalDep,
    config: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=200, description="Retry-safe"),
    ] = None,
) -> switching.SwitchOutcome:
    """Record a device opened or closed by hand or in the field (a crew's "opened X",
    "replaced fuse Y"); every process follows at once. A retry with the same
    `Idempotency-Key` is recorded once (`replayed`); the key used for another operation
    is refused (409)."""
    check_event_times([operation.occurred_at], now=clock.now(), max_age=config.event_max_age_hours)
    return switching.operate(
        session,
        operation.asset_ref,
        is_open=operation.state is SwitchState.OPEN,
        occurred_at=operation.occurred_at,
        source=SwitchSource.CREW if principal.crew_id is not None else SwitchSource.DISPATCHER,
        actor=principal.name,
        reason=operation.reason,
        request_key=idempotency_key,
    )
