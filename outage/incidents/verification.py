"""Verifying a restoration by asking meters: a fault further down (a transformer's fuse
blown in the same storm) leaves customers out when their feeder comes back, and they
rarely call again at once. So when an outage is restored, meters below its device are
pinged in the same transaction: every critical customer's, and a few in each section
(under each fuse, recloser or transformer). An "off" answer is a last gasp at the answer's
time, from which the engine opens the nested incident under the one just restored
(docs/ami-headend.md).

`choose_meters` picks them (no database); `verify_restoration` reads the meters below the
restored device and records the pings. The head-end and the sample's size come from the
settings, like the clock: every process restoring incidents asks the same way.
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind
from grid_topology.topology import Link, Topology
from outage import clock
from outage.grid.live import shared_topology
from outage.grid.models import Customer, Device, Premise
from outage.incidents.enums import IncidentKind
from outage.incidents.models import Incident
from outage.intake.enums import PingReason
from outage.intake.headend import HeadEndLimits, configured_limits
from outage.intake.pings import PingBatch, request_pings
from outage.settings import Settings, get_settings


@dataclass(frozen=True)
class MeterBelow:
    """A meter of a premise below the restored device."""

    meter_id: str
    section: str | None
    """The nearest protective device or transformer above the premise (asset ref): a
    fault there takes out exactly its section. None: the premise alone."""
    critical: bool
    """A critical customer (hospital, water works...) is supplied at the premise."""


@dataclass(frozen=True)
class Verification:
    """How restorations are verified: the head-end's limits and the sample's size."""

    limits: HeadEndLimits
    per_section: int
    """Meters asked in each section, critical customers' included."""
    max_sampled: int
    """At most this many besides the critical customers'."""

    @classmethod
    def of(cls, settings: Settings) -> "Verification | None":
        """As the settings say; None without a head-end: nothing is asked."""
        limits = configured_limits(settings)
        if limits is None:
            return None
        return cls(
            limits,
            per_section=settings.ami_verify_per_section,
            max_sampled=settings.ami_verify_max_meters,
        )


def choose_meters(
    meters: Sequence[MeterBelow], *, per_section: int, max_sampled: int, seed: int
) -> list[str]:
    """Every critical customer's meter, then a sample of the others spread over the
    sections: one in each section (in an order drawn from `seed`), then a second in each,
    up to `per_section` in one (its critical meters count) and `max_sampled` in all. A
    fuse left open anywhere below then has a meter asked."""
    rng = random.Random(seed)
    critical = {m.meter_id for m in meters if m.critical}
    held: dict[str | None, int] = {}
    others: dict[str | None, set[str]] = {}
    for meter in meters:
        if meter.critical:
            held[meter.section] = held.get(meter.section, 0) + 1
        elif meter.meter_id not in critical:
            others.setdefault(meter.section, set()).add(meter.meter_id)
    queues: list[list[str]] = []
    for section in sorted(others, key=lambda s: (s is None, s or "")):
        candidates = sorted(others[section])
        rng.shuffle(candidates)
        queues.append(candidates[: max(per_section - held.get(section, 0), 0)])
    rng.shuffle(queues)
    sampled = [queue[turn] for turn in range(per_section) for queue in queues if turn < len(queue)]
    return sorted(critical) + sampled[:max_sampled]


def verify_restoration(
    session: Session,
    incident: Incident,
    verification: Verification | None,
    topology: Topology | None = None,
) -> PingBatch | None:
    """Record the pings verifying the restored outage `incident`, in the caller's
    transaction; None when nothing is asked (no head-end, not an outage, nothing below).
    The meters below are found on `topology` (an engine's region) or the process's network."""
    if verification is None or incident.kind is not IncidentKind.OUTAGE:
        return None
    meters = _meters_below(session, incident, topology)
    chosen = choose_meters(
        meters,
        per_section=verification.per_section,
        max_sampled=verification.max_sampled,
        seed=incident.id,
    )
    if not chosen:
        return None
    return request_pings(
        session,
        verification.limits,
        chosen,
        PingReason.RESTORATION,
        incident_id=incident.id,
        now=clock.now(),
    )


def configured_verification() -> Verification | None:
    """The process's verification, from its settings."""
    return Verification.of(get_settings())


def _meters_below(
    session: Session, incident: Incident, topology: Topology | None
) -> list[MeterBelow]:
    """The metered premises the incident's device feeds in the network as operated (its
    premise for a single-service outage), each in its section."""
    if incident.premise_id is not None:
        return _meters(session, Premise.id == incident.premise_id, lambda account: None)
    device = session.scalar(select(Device.asset_ref).where(Device.id == incident.device_id))
    if topology is None:
        topology = shared_topology(session.get_bind().engine.url).get(session)
    if device is None or device not in topology.network.links:
        return []
    section_of = topology.sections_below(device, _is_section_head)
    if not section_of:
        return []
    return _meters(session, Customer.account.in_(sorted(section_of)), section_of.__getitem__)


def _is_section_head(link: Link) -> bool:
    """A section is what one fuse, recloser or transformer feeds: a crew's unit of work."""
    return link.is_protective or link.kind is DeviceKind.TRANSFORMER


def _meters(
    session: Session, where: ColumnElement[bool], section_of: Callable[[str], str | None]
) -> list[MeterBelow]:
    rows = session.execute(
        select(Customer.account, Premise.meter_id, Customer.critical.is_not(None))
        .select_from(Premise)
        .join(Customer, Customer.premise_id == Premise.id)
        .where(where, Premise.meter_id.is_not(None))
    )
    return [
        MeterBelow(meter_id, section_of(account), critical) for account, meter_id, critical in rows
    ]
