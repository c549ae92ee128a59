"""Great-circle travel time."""

import pytest

from dispatch.travel import GreatCircleTravel, SpeedArea, TravelTime, great_circle_m

HANOI = (105.85, 21.02)


def test_great_circle_distance() -> None:
    # 0.001 degree of latitude is about 111 m; a degree of longitude shrinks with latitude.
    assert great_circle_m(HANOI, (105.85, 21.021)) == pytest.approx(111.2, abs=0.2)
    assert great_circle_m((0, 60), (1, 60)) == pytest.approx(55_800, rel=0.01)
    assert great_circle_m(HANOI, HANOI) == 0


def test_seconds_are_road_distance_at_the_area_speed() -> None:
    north = (105.85, 21.02 + 0.01)  # 1,112 m
    travel = GreatCircleTravel(road_factor=1.3, speed_kmh=30)
    assert travel.seconds(HANOI, north) == pytest.approx(1112 * 1.3 / (30 / 3.6), rel=0.01)
    centre = SpeedArea("old quarter", 105.84, 21.0, 105.86, 21.04, speed_kmh=15)
    slow = GreatCircleTravel(areas=(centre,))
    assert slow.seconds(HANOI, north) == pytest.approx(2 * travel.seconds(HANOI, north))
    assert slow.speed_at((106.0, 21.0)) == 30


def test_matrix_is_whole_seconds_rounded_up() -> None:
    travel: TravelTime = GreatCircleTravel()
    points = [HANOI, (105.86, 21.02), (105.85, 21.03)]
    matrix = travel.matrix(points)
    for i, a in enumerate(points):
        assert matrix[i][i] == 0
        for j, b in enumerate(points):
            assert matrix[i][j] == matrix[j][i]
            assert isinstance(matrix[i][j], int)
            assert travel.seconds(a, b) <= matrix[i][j] < travel.seconds(a, b) + 1
