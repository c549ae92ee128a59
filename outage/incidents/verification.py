"""Verifying a restoration by asking meters: a fault further down (a transformer's fuse
blown in the same storm) leaves customers out when their feeder comes back, and they
rarely call again at once. So when an outage is restored, meters below its device are
pinged in the same transaction: every critical customer's, and a few on each transformer.
An "off" answer is a last gasp at the answer's time, from which the engine opens the
nested incident under the one just restored (docs/ami-headend.md).

`choose_meters` picks them (no database); `verify_restoration` reads the meters below the
restored device and records the pings. The head-end and the sample's size come from the
settings, like the clock: every process restoring incidents asks the same way.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from outage import clock
from outage.grid.live import LiveTopology
from outage.grid.models import Customer, Device, Premise
from outage.incidents.enums import IncidentKind
from outage.incidents.models import Incident
from outage.intake.enums import PingReason
from outage.intake.headend import HeadEndLimits
from outage.intake.pings import PingBatch, request_pings
from outage.settings import Settings, get_settings


@dataclass(frozen=True)
class MeterBelow:
    """A meter of a premise below the restored device."""

    meter_id: str
    transformer: str | None
    """The premise's transformer (asset ref); None for one fed without its own."""
    critical: bool
    """A critical customer (hospital, water works...) is supplied at the premise."""


@dataclass(frozen=True)
class Verification:
    """How restorations are verified: the head-end's limits and the sample's size."""

    limits: HeadEndLimits
    per_transformer: int
    """Meters asked on each transformer, critical customers' included."""
    max_sampled: int
    """At most this many besides the critical customers'."""

    @classmethod
    def of(cls, settings: Settings) -> "Verification | None":
        """As the settings say; None without a head-end: nothing is asked."""
        if not settings.ami_headend_url:
            return None
        return cls(
            HeadEndLimits(settings.ami_headend_max_batch, settings.ami_headend_max_per_minute),
            per_transformer=settings.ami_verify_per_transformer,
            max_sampled=settings.ami_verify_max_meters,
        )


def choose_meters(
    meters: Sequence[MeterBelow], *, per_transformer: int, max_sampled: int, seed: int
) -> list[str]:
    """Every critical customer's meter, then a sample of the others spread over the
    transformers: one on each transformer (in an order drawn from `seed`), then a second
    on each, up to `per_transformer` on one (its critical meters count) and `max_sampled`
    in all. A nested fault on any one transformer then has a meter asked."""
    rng = random.Random(seed)
    critical = {m.meter_id for m in meters if m.critical}
    held: dict[str | None, int] = {}
    others: dict[str | None, set[str]] = {}
    for meter in meters:
        if meter.critical:
            held[meter.transformer] = held.get(meter.transformer, 0) + 1
        elif meter.meter_id not in critical:
            others.setdefault(meter.transformer, set()).add(meter.meter_id)
    queues: list[list[str]] = []
    for transformer in sorted(others, key=lambda t: (t is None, t or "")):
        candidates = sorted(others[transformer])
        rng.shuffle(candidates)
        queues.append(candidates[: max(per_transformer - held.get(transformer, 0), 0)])
    rng.shuffle(queues)
    sampled = [
        queue[turn] for turn in range(per_transformer) for queue in queues if turn < len(queue)
    ]
    return sorted(critical) + sampled[:max_sampled]


_NETWORKS: dict[str, LiveTopology] = {}
"""Database URL -> the network a process reads restored devices' customers from, loaded
on its first verification (never without a head-end)."""


def _network(session: Session) -> LiveTopology:
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    return _NETWORKS.setdefault(url, LiveTopology())


def verify_restoration(
    session: Session, incident: Incident, verification: Verification | None
) -> PingBatch | None:
    """Record the pings verifying the restored outage `incident`, in the caller's
    transaction; None when nothing is asked (no head-end, not an outage, nothing below)."""
    if verification is None or incident.kind is not IncidentKind.OUTAGE:
        return None
    meters = _meters_below(session, incident)
    chosen = choose_meters(
        meters,
        per_transformer=verification.per_transformer,
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


def _meters_below(session: Session, incident: Incident) -> list[MeterBelow]:
    """The metered premises the incident's device feeds in the network as operated (its
    premise for a single-service outage)."""
    if incident.premise_id is not None:
        return _meters(session, Premise.id == incident.premise_id)
    device = session.scalar(select(Device.asset_ref).where(Device.id == incident.device_id))
    topology = _network(session).get(session)
    if device is None or device not in topology.network.links:
        return []
    accounts = sorted(topology.downstream(device).accounts)
    return _meters(session, Customer.account.in_(accounts)) if accounts else []


def _meters(session: Session, where: ColumnElement[bool]) -> list[MeterBelow]:
    transformer = Device.__table__.alias("transformer")
    rows = session.execute(
        select(
            Premise.meter_id,
            transformer.c.asset_ref,
            func.bool_or(Customer.critical.is_not(None)).label("critical"),
        )
        .join(Customer, Customer.premise_id == Premise.id)
        .outerjoin(transformer, transformer.c.id == Premise.transformer_id)
        .where(where, Premise.meter_id.is_not(None))
        .group_by(Premise.meter_id, transformer.c.asset_ref)
    )
    return [MeterBelow(meter_id, asset_ref, critical) for meter_id, asset_ref, critical in rows]
