"""A device's state at a past moment, from its switching log (pure part)."""

from datetime import UTC, datetime, timedelta

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.grid.enums import SwitchSource
from outage.grid.history import DeviceLog, NetworkHistory, Operation, operated_at, state_at

from .conftest import Transfer

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def op(
    minutes: float,
    *,
    is_open: bool,
    changed: bool = True,
    source: SwitchSource = SwitchSource.DISPATCHER,
) -> Operation:
    return Operation(is_open, at(minutes), source, changed)


def test_a_device_never_operated_is_as_it_is_now() -> None:
    assert state_at((), at(0)) is None


def test_the_latest_operation_at_or_before_the_moment_stands() -> None:
    log = (op(0, is_open=False), op(30, is_open=True))
    assert [state_at(log, at(m)).is_open for m in (0, 29, 30, 60)] == [  # type: ignore[union-attr]
        False,
        False,
        True,
        True,
    ]


def test_before_its_first_operation_a_device_was_the_opposite_of_what_it_changed_to() -> None:
    state = state_at((op(10, is_open=False),), at(5))
    assert state is not None and state.is_open and state.source is None


def test_before_an_operation_that_changed_nothing_a_device_was_already_so() -> None:
    state = state_at((op(10, is_open=True, changed=False),), at(5))
    assert state is not None and state.is_open


def test_an_operation_recorded_late_takes_its_place_in_history() -> None:
    # closed at 10 and recorded; an opening at 5 reported afterwards changed nothing live
    log = (op(10, is_open=False), op(5, is_open=True, changed=False))
    states = [state_at(log, at(m)).is_open for m in (0, 5, 10)]  # type: ignore[union-attr]
    assert states == [True, True, False]


def test_the_first_operation_recorded_says_how_the_device_was_before_all() -> None:
    # opened at 10 (changed it), then an opening at 5 reported late: closed before 5
    log = (op(10, is_open=True), op(5, is_open=True, changed=False))
    states = [state_at(log, at(m)).is_open for m in (0, 5, 10)]  # type: ignore[union-attr]
    assert states == [False, True, True]


def test_a_protection_trip_counts_as_closed_as_operated() -> None:
    breaker = DeviceLog(
        "BR-1", DeviceKind.BREAKER, False, (op(10, is_open=True, source=SwitchSource.SCADA),)
    )
    assert operated_at(breaker, at(20)) is False


def test_a_breaker_an_operator_opened_is_open_as_operated() -> None:
    breaker = DeviceLog("BR-1", DeviceKind.BREAKER, False, (op(10, is_open=True),))
    assert operated_at(breaker, at(20)) is True


def test_scada_confirming_an_operators_opening_leaves_it_the_operators() -> None:
    log = (op(10, is_open=True), op(11, is_open=True, changed=False, source=SwitchSource.SCADA))
    assert operated_at(DeviceLog("BR-1", DeviceKind.BREAKER, False, log), at(20)) is True


def test_moments_in_one_switching_state_share_one_topology(
    sample_grid: GridModel, transfer: Transfer
) -> None:
    now = Topology(Network.from_model(sample_grid))
    closed_at_10 = DeviceLog(transfer.tie, DeviceKind.SWITCH, True, (op(10, is_open=False),))
    history = NetworkHistory(now, [closed_at_10])
    assert history.at(at(0)) is now
    assert history.at(at(20)) is history.at(at(90))
    assert not history.at(at(20)).network.links[transfer.tie].is_open
