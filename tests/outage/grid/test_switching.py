"""Operating switchable devices: the live state, its version, and what counts as a trip."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from grid_topology.model import DeviceKind, GridModel
from outage.db import session_factory, session_scope
from outage.grid import switching
from outage.grid.enums import SwitchSource
from outage.grid.models import Device, SwitchOperation

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def _first(sample_grid: GridModel, kind: DeviceKind, skip: int = 0) -> str:
    return [d.asset_ref for d in sample_grid.devices if d.kind is kind and not d.is_open][skip]


def _operate(
    url: str,
    asset_ref: str,
    is_open: bool,
    *,
    occurred_at: datetime = NOW,
    source: SwitchSource = SwitchSource.DISPATCHER,
    reason: str | None = None,
) -> switching.SwitchOutcome:
    with session_scope(session_factory(url)) as session:
        return switching.operate(
            session,
            asset_ref,
            is_open=is_open,
            occurred_at=occurred_at,
            source=source,
            actor="test",
            reason=reason,
        )


def _device(url: str, asset_ref: str) -> Device:
    with session_scope(session_factory(url)) as session:
        device = session.scalars(select(Device).where(Device.asset_ref == asset_ref)).one()
        session.expunge(device)
        return device


def test_opening_a_switch_changes_its_live_state_and_the_version(
    switching_database: str, sample_grid: GridModel
) -> None:
    switch = _first(sample_grid, DeviceKind.SWITCH)
    with session_scope(session_factory(switching_database)) as session:
        before = switching.versions(session).switch
    outcome = _operate(switching_database, switch, True, reason="planned work")
    assert outcome.changed and outcome.is_open
    assert outcome.version == before + 1
    device = _device(switching_database, switch)
    assert device.is_open and not device.normal_open
    assert device.state_version == outcome.version


def test_an_operation_reported_late_does_not_override_a_later_one(
    switching_database: str, sample_grid: GridModel
) -> None:
    switch = _first(sample_grid, DeviceKind.SWITCH, skip=1)
    _operate(switching_database, switch, True, occurred_at=NOW)
    late = _operate(switching_database, switch, False, occurred_at=NOW - timedelta(minutes=5))
    assert not late.changed and late.is_open
    assert _device(switching_database, switch).is_open


def test_repeating_a_state_leaves_the_version_alone(
    switching_database: str, sample_grid: GridModel
) -> None:
    switch = _first(sample_grid, DeviceKind.SWITCH, skip=2)
    first = _operate(switching_database, switch, True)
    again = _operate(switching_database, switch, True, occurred_at=NOW + timedelta(seconds=1))
    assert not again.changed
    assert again.version == first.version


def test_every_operation_is_logged_with_who_and_why(
    switching_database: str, sample_grid: GridModel
) -> None:
    switch = _first(sample_grid, DeviceKind.SWITCH, skip=3)
    _operate(switching_database, switch, True, reason="tree trimming")
    with session_scope(session_factory(switching_database)) as session:
        logged = session.execute(
            select(SwitchOperation.actor, SwitchOperation.reason, SwitchOperation.source)
            .join(Device, Device.id == SwitchOperation.device_id)
            .where(Device.asset_ref == switch)
        ).one()
    assert tuple(logged) == ("test", "tree trimming", SwitchSource.DISPATCHER)


def _operations(url: str) -> int:
    with session_scope(session_factory(url)) as session:
        return session.scalar(select(func.count()).select_from(SwitchOperation)) or 0


def test_an_unknown_device_is_refused_and_nothing_is_stored(switching_database: str) -> None:
    before = _operations(switching_database)
    with pytest.raises(switching.UnknownDevice, match="no-such-switch"):
        _operate(switching_database, "no-such-switch", True)
    assert _operations(switching_database) == before


def test_a_line_section_cannot_be_switched(switching_database: str, sample_grid: GridModel) -> None:
    line = _first(sample_grid, DeviceKind.LINE)
    before = _operations(switching_database)
    with pytest.raises(switching.NotSwitchable, match="line"):
        _operate(switching_database, line, True)
    assert _operations(switching_database) == before


def test_a_breaker_scada_opened_is_tripped(switching_database: str, sample_grid: GridModel) -> None:
    breaker = _first(sample_grid, DeviceKind.BREAKER)
    _operate(switching_database, breaker, True, source=SwitchSource.SCADA)
    with session_scope(session_factory(switching_database)) as session:
        assert breaker in switching.tripped_devices(session)
    _operate(
        switching_database,
        breaker,
        False,
        source=SwitchSource.SCADA,
        occurred_at=NOW + timedelta(minutes=1),
    )


def test_an_operator_holding_a_tripped_breaker_open_makes_it_switching(
    switching_database: str, sample_grid: GridModel
) -> None:
    breaker = _first(sample_grid, DeviceKind.BREAKER, skip=1)
    tripped = _operate(switching_database, breaker, True, source=SwitchSource.SCADA)
    held = _operate(
        switching_database,
        breaker,
        True,
        source=SwitchSource.CREW,
        occurred_at=NOW + timedelta(minutes=3),
    )
    assert held.changed and held.version > tripped.version
    confirmed = _operate(
        switching_database,
        breaker,
        True,
        source=SwitchSource.SCADA,
        occurred_at=NOW + timedelta(minutes=4),
    )
    assert not confirmed.changed
    with session_scope(session_factory(switching_database)) as session:
        assert breaker not in switching.tripped_devices(session)
