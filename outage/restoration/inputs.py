"""What the planner needs of the database for one incident, read on the network as it is.

The planner is pure (`grid_topology.restoration`): here its inputs are read. The network
data are the devices' ratings and remote control and the premises' demand; the incident
is its device, the protective devices that opened on the fault, the sections the
evidence leaves possible for the fault, and the active hazards, which must stay dead.
A manual device's time comes from the crews on shift: where they are, how long they
drive and operate.
"""

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.travel import GreatCircleTravel
from grid_topology import restoration
from grid_topology.model import SWITCHING_KINDS, Coordinate
from outage.crews.service import planning_crews
from outage.grid.live import Views
from outage.grid.models import Device, GridNode, Premise
from outage.grid.switching import tripped_devices
from outage.intake.enums import MeterEventKind
from outage.intake.models import FaultIndication, MeterEvent
from outage.orders.network import critical_accounts, hazard_sites
from outage.restoration.errors import NotPlannable
from outage.settings import Settings


def grid_data(session: Session) -> restoration.GridData:
    """Demand per node, ratings, remote-controlled devices and critical customers."""
    loads = {
        node: complex(kw, kvar)
        for node, kw, kvar in session.execute(
            select(
                GridNode.ref,
                func.sum(Premise.load_kw),
                func.sum(func.coalesce(Premise.load_kvar, 0.0)),
            )
            .join(Premise, Premise.node_id == GridNode.id)
            .where(Premise.load_kw.is_not(None))
            .group_by(GridNode.ref)
        )
    }
    ratings = {
        ref: float(rating)
        for ref, rating in session.execute(
            select(Device.asset_ref, Device.rating_kva).where(Device.rating_kva > 0)
        )
    }
    remote = frozenset(session.scalars(select(Device.asset_ref).where(Device.remote_controlled)))
    return restoration.GridData(
        loads=loads, ratings=ratings, remote=remote, critical=critical_accounts(session)
    )


@dataclass(frozen=True)
class Fault:
    device: str
    """The incident's device."""
    operated: tuple[str, ...]
    faulted: frozenset[str]


def _metered_live(session: Session, since: datetime) -> frozenset[str]:
    """Nodes of premises whose meter said power is back since `since`, and said nothing
    after: supplied, so the fault is not on their way from the source."""
    latest = (
        select(MeterEvent.premise_id, MeterEvent.kind)
        .where(MeterEvent.occurred_at >= since)
        .order_by(MeterEvent.premise_id, MeterEvent.occurred_at.desc(), MeterEvent.id.desc())
        .distinct(MeterEvent.premise_id)
        .subquery()
    )
    return frozenset(
        session.scalars(
            select(GridNode.ref)
            .join(Premise, Premise.node_id == GridNode.id)
            .join(latest, latest.c.premise_id == Premise.id)
            .where(latest.c.kind == MeterEventKind.POWER_RESTORED)
        )
    )


@dataclass(frozen=True)
class Indications:
    passed: frozenset[str]
    """Devices whose latest indication says fault current passed."""
    not_passed: frozenset[str]


def indications(session: Session, since: datetime, among: Collection[str]) -> Indications:
    """The latest fault indication since `since` of each of these devices."""
    rows = session.execute(
        select(Device.asset_ref, FaultIndication.fault_passed)
        .join(Device, Device.id == FaultIndication.device_id)
        .where(FaultIndication.occurred_at >= since, Device.asset_ref.in_(sorted(among)))
        .order_by(
            FaultIndication.device_id,
            FaultIndication.occurred_at.desc(),
            FaultIndication.id.desc(),
        )
        .distinct(FaultIndication.device_id)
    ).all()
    return Indications(
        passed=frozenset(ref for ref, passed in rows if passed),
        not_passed=frozenset(ref for ref, passed in rows if not passed),
    )


def locate(
    session: Session,
    device: str,
    started_at: datetime,
    network: Views,
    *,
    indication_lead: timedelta,
) -> Fault:
    """The devices that opened on the incident's fault and where the fault may be.

    Opened: the devices protection tripped on the way from the source to the incident's
    device, and the device itself when it can open (a fuse the engine blames may not be
    known open). A device that cannot open (a line, a transformer a dispatcher placed the
    incident on) is where the fault is; below a device that opened, the evidence narrows
    it (`restoration.locate_fault`): meters that said power is back, and the fault
    indications below the device from `indication_lead` before the incident began."""
    operated_view = network.operated
    links = operated_view.network.links
    if device not in links:
        raise NotPlannable(f"device {device!r} is not in the network")
    link = links[device]
    path = operated_view.upstream(device).devices
    tripped = tripped_devices(session)
    opened = [d for d in path if d in tripped]
    if link.kind in SWITCHING_KINDS:
        opened.append(device)
    if not opened:
        protective = [d for d in path if links[d].is_protective]
        if not protective:
            raise NotPlannable(f"nothing above {device!r} can have opened on the fault")
        opened.append(protective[0])
    if link.kind in SWITCHING_KINDS:
        below = operated_view.downstream(device).devices
        seen = indications(session, started_at - indication_lead, below)
        faulted = restoration.locate_fault(
            network.energized,
            device,
            energized=_metered_live(session, started_at),
            fault_passed=seen.passed,
            no_fault_passed=seen.not_passed,
        )
    else:
        faulted = restoration.sections(network.energized, [link.from_node, link.to_node])
    return Fault(device, tuple(dict.fromkeys(opened)), faulted)


def hazards(session: Session) -> frozenset[str]:
    """Nodes of the active hazards: their sections are never re-energized."""
    return frozenset(node for nodes in hazard_sites(session).values() for node in nodes)


def crews(session: Session, settings: Settings, now: datetime) -> restoration.Crews:
    """The crews on shift, each from its fresh position or its depot, busy or not, for the
    plan's timeline; where a device is, looked up once."""
    travel = GreatCircleTravel(
        road_factor=settings.dispatch_road_factor, speed_kmh=settings.dispatch_speed_kmh
    )
    on_shift = planning_crews(
        session, now=now, position_max_age=settings.dispatch_position_max_age_minutes
    )
    return restoration.Crews(
        starts=tuple(c.location or c.depot for c in on_shift),
        place=functools.cache(functools.partial(_place, session)),
        travel=travel.seconds,
        operate_seconds=settings.restoration_operate_minutes.total_seconds(),
        unknown_seconds=settings.restoration_manual_minutes.total_seconds(),
    )


def _place(session: Session, asset_ref: str) -> Coordinate | None:
    place = session.execute(
        select(
            func.ST_X(func.ST_PointOnSurface(Device.geom)),
            func.ST_Y(func.ST_PointOnSurface(Device.geom)),
        ).where(Device.asset_ref == asset_ref)
    ).first()
    return None if place is None else (float(place[0]), float(place[1]))


def critical_of(data: restoration.GridData, accounts: Collection[str]) -> int:
    return sum(1 for account in accounts if account in data.critical)


def customers_out(network: Views, fault: Fault) -> int:
    """Customers below the devices that opened on the fault, as operated, without supply."""
    nodes = {n for device in fault.operated for n in network.operated.downstream(device).nodes}
    accounts_at = network.operated.network.accounts_at
    return sum(
        len(accounts_at.get(node, ())) for node in nodes if not network.energized.is_energized(node)
    )
