"""Simulated crews drive in straight lines at their speed."""

from dispatch.travel import great_circle_m
from outage.simulation.crews import step_towards

HERE = (105.80, 21.00)
THERE = (105.81, 21.00)


def test_a_step_shorter_than_the_way_moves_that_far_towards_the_target() -> None:
    moved, arrived = step_towards(HERE, THERE, 300.0)
    assert not arrived
    assert abs(great_circle_m(HERE, moved) - 300.0) < 1.0
    assert great_circle_m(moved, THERE) < great_circle_m(HERE, THERE)


def test_a_step_longer_than_the_way_arrives() -> None:
    assert step_towards(HERE, THERE, 5_000.0) == (THERE, True)
    assert step_towards(THERE, THERE, 0.0) == (THERE, True)
