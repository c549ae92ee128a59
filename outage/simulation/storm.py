"""A storm scenario: faults over time, and every message customers and meters send about them.

Pure and seeded. Who calls and when comes from the prediction benchmark's simulator
(`outage.prediction.simulator`: log-normal call delays, noise calls from customers who are
not out, last gasps seconds after a fault). This module adds how each customer gets in
touch, in shares a reader can argue with (`CHANNEL_SHARES`): the web form with their
account number, the web form from a phone that sends its GPS fix, an SMS to the short
code, or the IVR line; and that a few callers report wires down.

Every message carries an idempotency key made of the run's id and its place in the storm,
so a client that retries sends the same key and the server keeps one report.
"""

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from grid_topology.model import Coordinate, DeviceKind, GridModel
from grid_topology.restoration import GridData, Incident, Options, plan_restoration, sections
from grid_topology.topology import Network, Topology
from outage.intake.enums import Hazard
from outage.prediction.inference import EvidenceKind
from outage.prediction.simulator import (
    FAULT_WINDOW_S,
    Fault,
    fault_candidates,
    inject_faults,
    simulate_evidence,
)


class ContactChannel(StrEnum):
    """How a simulated customer reaches us."""

    WEB_ACCOUNT = "web_account"
    """The report form, with the account number from the bill."""
    WEB_GPS = "web_gps"
    """The report form on a phone that shares its location, and nothing else."""
    SMS = "sms"
    """`MAT DIEN <account>` to the short code."""
    IVR = "ivr"
    """The phone line: key 1 to report at the premise registered to the caller's number."""


CHANNEL_SHARES: tuple[tuple[ContactChannel, float], ...] = (
    (ContactChannel.WEB_ACCOUNT, 0.30),
    (ContactChannel.WEB_GPS, 0.15),
    (ContactChannel.SMS, 0.35),
    (ContactChannel.IVR, 0.20),
)
"""Share of callers per channel; without a gateway key, SMS and IVR callers use the web."""
HAZARD_SHARE = 0.02
"""Share of callers out of supply who report wires down (always through the web form)."""
METER_SHARE = 0.3
"""Share of affected customers with a smart meter whose last gasp can reach the head-end,
unless a storm says otherwise."""
GPS_SCATTER_M = 15.0
"""Standard deviation of a phone's GPS fix around the premise, in metres."""
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Reporter:
    """What a simulated customer knows about themselves."""

    account: str
    phone: str
    location: Coordinate
    meter_id: str | None


@dataclass(frozen=True)
class Contact:
    """One customer getting in touch."""

    time_s: float
    account: str
    channel: ContactChannel
    key: str
    """Idempotency key: the same on every retry."""
    fault: str | None
    """The fault that put this customer out; None for a noise call."""
    hazard: Hazard | None = None
    location: Coordinate | None = None
    """The phone's GPS fix, for WEB_GPS."""

    @property
    def is_noise(self) -> bool:
        return self.fault is None


@dataclass(frozen=True)
class LastGasp:
    time_s: float
    meter_id: str
    fault: str


@dataclass(frozen=True)
class StormGrid:
    """The network and the customers on it, as a storm needs them."""

    topology: Topology
    reporters: Mapping[str, Reporter]
    candidates: tuple[str, ...]
    """Protective devices a fault may be put at."""
    premise_accounts: Mapping[str, str]
    """Premise ref -> the account served there (the plan names single-service premises)."""
    feeder_heads: tuple[str, ...] = ()
    """The breakers that feed the feeders: where a fault restorable by switching is put."""
    mv_lines: tuple[str, ...] = ()
    """Closed medium-voltage line sections: where such a fault lies."""
    data: GridData = field(default_factory=GridData)
    """Loads, ratings and remote-controlled devices, for the restoration planner."""

    @classmethod
    def from_model(cls, model: GridModel) -> "StormGrid":
        topology = Topology(Network.from_model(model))
        reporters = {
            p.customer.account: Reporter(
                p.customer.account, p.customer.phone, p.location, p.meter_id
            )
            for p in model.premises
        }
        premises = {p.ref: p.customer.account for p in model.premises}
        heads = tuple(sorted(f.head for f in model.feeders))
        lines = tuple(
            sorted(
                d.asset_ref
                for d in model.devices
                if d.kind is DeviceKind.LINE and not d.is_open and (d.voltage_kv or 0) > 1
            )
        )
        candidates = tuple(fault_candidates(topology))
        return cls(
            topology, reporters, candidates, premises, heads, lines, GridData.from_model(model)
        )

    def meters(self, accounts: frozenset[str]) -> list[str]:
        """Meter ids of these customers' premises, for their power-restored events."""
        found = (self.reporters[a].meter_id for a in sorted(accounts) if a in self.reporters)
        return [meter for meter in found if meter]


@dataclass(frozen=True)
class Storm:
    faults: tuple[Fault, ...]
    contacts: tuple[Contact, ...]
    """In time order."""
    gasps: tuple[LastGasp, ...]
    """In time order."""

    @property
    def duration_s(self) -> float:
        times = [c.time_s for c in self.contacts] + [g.time_s for g in self.gasps]
        return max(times, default=0.0)


def _channel(rng: random.Random, gateway: bool) -> ContactChannel:
    channels, weights = zip(*CHANNEL_SHARES, strict=True)
    chosen: ContactChannel = rng.choices(channels, weights)[0]
    if not gateway and chosen in (ContactChannel.SMS, ContactChannel.IVR):
        return ContactChannel.WEB_ACCOUNT
    return chosen


def _gps_fix(rng: random.Random, where: Coordinate) -> Coordinate:
    lon, lat = where
    north = rng.gauss(0.0, GPS_SCATTER_M) / METRES_PER_DEGREE
    east = rng.gauss(0.0, GPS_SCATTER_M) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return (round(lon + east, 6), round(lat + north, 6))


def generate_storm(
    grid: StormGrid,
    *,
    faults: int,
    call_rate: float,
    seed: int,
    run_id: str,
    noise: float = 0.05,
    gateway: bool = True,
    window_s: float = FAULT_WINDOW_S,
    first_at: str | None = None,
    meter_share: float = METER_SHARE,
) -> Storm:
    """`faults` faults within `window_s` (the first at time 0) and the messages they cause.

    `gateway` says whether SMS and IVR are available (the client has a gateway key);
    `first_at` names a protective device whose fault starts the storm, the others then
    falling outside its area.
    """
    rng = random.Random(seed)
    placed: list[Fault] = []
    candidates = grid.candidates
    if first_at is not None:
        area = grid.topology.downstream(first_at).accounts
        placed.append(Fault(first_at, grid.topology.network.links[first_at].kind, 0.0, area))
        candidates = tuple(
            c for c in candidates if grid.topology.downstream(c).accounts.isdisjoint(area)
        )
    placed += inject_faults(
        grid.topology, rng, faults - len(placed), candidates=candidates, window_s=window_s
    )
    if not placed:
        return Storm((), (), ())
    first = min(f.start_s for f in placed)
    placed = sorted(
        (Fault(f.device, f.kind, f.start_s - first, f.accounts, f.parent) for f in placed),
        key=lambda f: (f.start_s, f.device),
    )
    events = simulate_evidence(
        grid.topology, placed, rng, call_rate=call_rate, noise=noise, meter_share=meter_share
    )
    contacts: list[Contact] = []
    gasps: list[LastGasp] = []
    for event in events:
        reporter = grid.reporters.get(event.account)
        if reporter is None:
            continue
        if event.kind is EvidenceKind.LAST_GASP:
            if reporter.meter_id and event.fault is not None:
                gasps.append(LastGasp(event.time_s, reporter.meter_id, event.fault))
            continue
        channel = _channel(rng, gateway)
        hazard = None
        if event.fault is not None and rng.random() < HAZARD_SHARE:
            channel, hazard = ContactChannel.WEB_ACCOUNT, Hazard.WIRES_DOWN
        contacts.append(
            Contact(
                time_s=event.time_s,
                account=event.account,
                channel=channel,
                key=f"{run_id}-{len(contacts)}",
                fault=event.fault,
                hazard=hazard,
                location=(
                    _gps_fix(rng, reporter.location) if channel is ContactChannel.WEB_GPS else None
                ),
            )
        )
    return Storm(tuple(placed), tuple(contacts), tuple(gasps))


@dataclass(frozen=True)
class SwitchingSite:
    """A fault on a line section: its feeder head opens, and switching can restore part of
    what the head feeds before the repair."""

    tripped: str
    """The feeder head that opens on the fault: the storm's fault is put there."""
    line: str
    """The line section the fault is on, where a patrol finds it."""
    faulted: frozenset[str]
    """Nodes of the faulted section: never fed again before the repair."""
    restorable: frozenset[str]
    """Accounts the best plan restores, as the planner sees the normal network."""


def switching_site(grid: StormGrid) -> SwitchingSite | None:
    """The line in the section just below a feeder head (its whole feeder is out) whose
    fault switching can restore the most customers around, a feeder that can be fed again
    whole first (no part of it left out for want of capacity, so that every plan restores
    the same customers); None when there is none."""
    best: tuple[bool, int] | None = None
    site: SwitchingSite | None = None
    options = Options(plans=1)
    topology = grid.topology
    links = topology.network.links
    for head in grid.feeder_heads:
        faulted = sections(topology, [links[head].to_node])
        at_fault = {a for node in faulted for a in topology.network.accounts_at.get(node, ())}
        for line in grid.mv_lines:
            if links[line].from_node not in faulted:
                continue
            incident = Incident(faulted, (head,))
            [plan] = plan_restoration(topology, incident, grid.data, options)
            rank = (plan.unsupplied <= at_fault, len(plan.restored))
            if plan.restored and (best is None or rank > best):
                best, site = rank, SwitchingSite(head, line, faulted, plan.restored)
    return site


def faults_repaired_by(
    faults: Sequence[Fault], device: str | None, topology: Topology
) -> list[Fault]:
    """The faults a crew repairs when it restores an incident at `device`.

    The crew patrols from the device it was sent to: it finds the faults below it (the
    prediction named a device upstream of the real fault) and the fault just above it
    (the prediction named a device inside the faulted area). For a single-service incident
    (`device` is then the customer's account) it finds the fault whose area holds it.
    """
    if device is None:
        return []
    if device in topology.network.links:
        below = set(topology.downstream(device).devices) | {device}
        found = [f for f in faults if f.device in below]
        if found:
            return found
        above = [f for f in faults if device in topology.downstream(f.device).devices]
    else:
        above = [f for f in faults if device in f.accounts]
    return sorted(above, key=lambda f: len(f.accounts))[:1]
