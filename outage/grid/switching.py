"""Operating switchable devices: the one way the live state of the network changes.

Every change (SCADA, a switching order's step, a crew's report, the control room) is an
operation in `switch_operations`. A device's live state is its latest operation by the
time it happened, so an operation reported late takes its place in history without
overriding a later one. An operation that changes the live state bumps the network's
switch version in `grid_state`; the row is locked until commit, so versions are handed
out in commit order and a process that has read version N has seen every change up to N.
A report sent with a request key (a crew's phone sending again after a lost answer) is
recorded once: the retry finds the first and changes nothing. Processes learn of a change
by comparing versions (`outage.grid.live`); the engine is woken through its evidence
channel as well.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, aliased

from grid_topology.model import PROTECTIVE_KINDS, SWITCHING_KINDS, DeviceKind
from outage.errors import Conflict, Invalid
from outage.grid.enums import SwitchSource
from outage.grid.models import Device, GridState, SwitchOperation
from outage.locks import LockSpace

CHANNEL = "network_changed"
"""Notified with the new switch version whenever the live state changes."""

EVIDENCE_CHANNEL = "outage_evidence"
"""The engine's wake-up channel: a switching change can change what it predicts."""

OPERATORS = frozenset({SwitchSource.ORDER, SwitchSource.CREW, SwitchSource.DISPATCHER})
"""Sources that open a device on purpose; a protective device opened otherwise tripped."""


class UnknownDevice(Invalid, LookupError):
    """No device has this asset_ref."""

    code = "unknown_device"


class NotSwitchable(Invalid, ValueError):
    """The device cannot be opened or closed (a line section, a transformer)."""

    code = "not_switchable"


class RequestKeyReused(Conflict, ValueError):
    """The actor sent this request key before with another operation."""

    code = "request_key_reused"


@dataclass(frozen=True)
class Versions:
    switch: int
    """Bumped by every change of a device's live state."""
    structure: int
    """Bumped by every import that changed the network itself."""


@dataclass(frozen=True)
class SwitchOutcome:
    asset_ref: str
    is_open: bool
    """The device's live state after the operation."""
    changed: bool
    """False when the device was already so, or a later operation stands."""
    version: int
    """The network's switch version after the operation."""
    replayed: bool = False
    """The request key was seen before: this is the first report's, recorded once."""


@dataclass(frozen=True)
class DeviceState:
    asset_ref: str
    is_open: bool
    tripped: bool
    """Opened by protection (no operator opened it): an outage, not a switching change."""


@dataclass(frozen=True)
class Changes:
    versions: Versions
    states: tuple[DeviceState, ...]


def is_tripped(
    kind: DeviceKind, is_open: bool, normal_open: bool, source: SwitchSource | None
) -> bool:
    """A protective device open against its normal state that no operator opened."""
    return kind in PROTECTIVE_KINDS and is_open and not normal_open and source not in OPERATORS


def versions(session: Session) -> Versions:
    row = session.execute(select(GridState.switch_version, GridState.structure_version)).one()
    return Versions(switch=row.switch_version, structure=row.structure_version)


@dataclass(frozen=True)
class OrderStep:
    """A switching order's step, as the switching log names the one that made an
    operation."""

    order_id: int
    position: int


def operate(
    session: Session,
    asset_ref: str,
    *,
    is_open: bool,
    occurred_at: datetime,
    source: SwitchSource,
    actor: str,
    reason: str | None = None,
    request_key: str | None = None,
    order_step: OrderStep | None = None,
) -> SwitchOutcome:
    """Record that the device was opened or closed at `occurred_at`; the caller commits.

    With `request_key`, the actor's operation already recorded under it is answered
    instead (`replayed`), and refused if it was another operation. `order_step`: the
    switching order's step that made it."""
    if request_key is not None:
        session.execute(
            select(
                func.pg_advisory_xact_lock(
                    LockSpace.SWITCH_REQUEST.value, func.hashtext(f"{actor}\n{request_key}")
                )
            )
        )
    device = session.scalar(
        select(Device)
        .where(Device.asset_ref == asset_ref, Device.retired_in.is_(None))
        .with_for_update()
    )
    if device is None:
        raise UnknownDevice(f"unknown device {asset_ref!r}")
    if device.kind not in SWITCHING_KINDS:
        raise NotSwitchable(f"{asset_ref!r} is a {device.kind}, which cannot be opened or closed")
    if request_key is not None:
        earlier = session.scalar(
            select(SwitchOperation).where(
                SwitchOperation.actor == actor, SwitchOperation.request_key == request_key
            )
        )
        if earlier is not None:
            return _replayed(session, earlier, device, is_open=is_open, occurred_at=occurred_at)
    later = session.scalar(
        select(
            exists().where(
                SwitchOperation.device_id == device.id, SwitchOperation.occurred_at > occurred_at
            )
        )
    )
    operation = SwitchOperation(
        device_id=device.id,
        is_open=is_open,
        occurred_at=occurred_at,
        source=source,
        actor=actor,
        reason=reason,
        request_key=request_key,
        order_id=None if order_step is None else order_step.order_id,
        step_position=None if order_step is None else order_step.position,
    )
    session.add(operation)
    if later:
        session.flush()
        return SwitchOutcome(asset_ref, device.is_open, False, versions(session).switch)
    was_tripped = is_tripped(device.kind, device.is_open, device.normal_open, device.state_source)
    if device.is_open != is_open or (source in OPERATORS and device.state_source not in OPERATORS):
        # An operator confirming a state takes it over (a tripped breaker an operator now
        # holds open is switching, no longer an outage); SCADA confirming an operator's
        # step leaves it the operator's.
        device.state_source = source
    tripped = is_tripped(device.kind, is_open, device.normal_open, device.state_source)
    if device.is_open == is_open and was_tripped == tripped:
        session.flush()
        return SwitchOutcome(asset_ref, is_open, False, versions(session).switch)
    version = session.scalar(
        update(GridState)
        .values(switch_version=GridState.switch_version + 1)
        .returning(GridState.switch_version)
    )
    assert version is not None
    device.is_open = is_open
    device.state_version = version
    operation.version = version
    session.flush()
    session.execute(select(func.pg_notify(CHANNEL, str(version))))
    session.execute(select(func.pg_notify(EVIDENCE_CHANNEL, "switching")))
    return SwitchOutcome(asset_ref, is_open, True, version)


def _replayed(
    session: Session,
    earlier: SwitchOperation,
    device: Device,
    *,
    is_open: bool,
    occurred_at: datetime,
) -> SwitchOutcome:
    """The answer to a retry: the device as it stands, nothing recorded again."""
    if (earlier.device_id, earlier.is_open, earlier.occurred_at) != (
        device.id,
        is_open,
        occurred_at,
    ):
        raise RequestKeyReused(
            f"request key {earlier.request_key!r} was used for another operation"
        )
    return SwitchOutcome(
        device.asset_ref, device.is_open, False, versions(session).switch, replayed=True
    )


def changes_since(session: Session, switch_version: int) -> Changes:
    """The devices whose live state changed after `switch_version`, with the versions now.

    The versions are read first: a change committed in between is read twice at worst,
    and applying a state twice is harmless.
    """
    now = versions(session)
    rows = session.execute(
        select(
            Device.asset_ref, Device.kind, Device.is_open, Device.normal_open, Device.state_source
        ).where(Device.state_version > switch_version)
    )
    states = tuple(
        DeviceState(ref, is_open, is_tripped(kind, is_open, normal_open, source))
        for ref, kind, is_open, normal_open, source in rows
    )
    return Changes(now, states)


def closed_by_operators(session: Session, since: datetime) -> dict[str, datetime]:
    """Devices an operator closed since `since`, with when it last happened."""
    rows = session.execute(
        select(Device.asset_ref, func.max(SwitchOperation.occurred_at))
        .join(SwitchOperation, SwitchOperation.device_id == Device.id)
        .where(
            SwitchOperation.source.in_(sorted(OPERATORS)),
            ~SwitchOperation.is_open,
            SwitchOperation.occurred_at >= since,
        )
        .group_by(Device.asset_ref)
    )
    return {asset_ref: at for asset_ref, at in rows}


def tripped_devices(session: Session) -> frozenset[str]:
    """Every protective device that protection opened and nobody has closed yet."""
    rows = session.execute(
        select(Device.asset_ref, Device.kind, Device.normal_open, Device.state_source).where(
            Device.is_open, Device.is_protective
        )
    )
    return frozenset(
        ref
        for ref, kind, normal_open, source in rows
        if is_tripped(kind, True, normal_open, source)
    )


def bump_structure(session: Session) -> int:
    """An import changed the network itself: every process follows (`outage.grid.live`)."""
    version = session.scalar(
        update(GridState)
        .values(structure_version=GridState.structure_version + 1)
        .returning(GridState.structure_version)
    )
    assert version is not None
    session.execute(select(func.pg_notify(CHANNEL, f"structure {version}")))
    return version


@dataclass(frozen=True)
class AbnormalDevice:
    """A device not in its normal state, and the operation that left it so."""

    asset_ref: str
    kind: DeviceKind
    is_open: bool
    normal_open: bool
    tripped: bool
    since: datetime | None
    """When the standing operation happened; None when the import left it so."""
    source: SwitchSource | None
    actor: str | None
    reason: str | None


def abnormal_devices(session: Session) -> list[AbnormalDevice]:
    """Every switchable device whose live state is not its normal one, longest first,
    with the operation that set that state (the one that bumped the version to it)."""
    standing = aliased(SwitchOperation)
    rows = session.execute(
        select(
            Device.asset_ref,
            Device.kind,
            Device.is_open,
            Device.normal_open,
            Device.state_source,
            standing.occurred_at,
            standing.actor,
            standing.reason,
        )
        .outerjoin(
            standing,
            (standing.device_id == Device.id) & (standing.version == Device.state_version),
        )
        .where(Device.is_open != Device.normal_open)
        .order_by(standing.occurred_at.asc().nulls_first(), Device.asset_ref)
    )
    return [
        AbnormalDevice(
            asset_ref=ref,
            kind=kind,
            is_open=is_open,
            normal_open=normal_open,
            tripped=is_tripped(kind, is_open, normal_open, source),
            since=since,
            source=source,
            actor=actor,
            reason=reason,
        )
        for ref, kind, is_open, normal_open, source, since, actor, reason in rows
    ]
