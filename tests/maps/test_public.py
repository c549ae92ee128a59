"""The public map's colour scale: one list of shades that the areas and the legend share."""

from maps.public import Band, bands


def test_the_shades_begin_where_an_area_may_show() -> None:
    assert [(b.lowest, b.highest) for b in bands(3)] == [(3, 19), (20, 99), (100, 499), (500, None)]


def test_shades_below_the_smallest_area_are_not_told() -> None:
    assert bands(150) == [Band(150, 499, "#b91c1c"), Band(500, None, "#7f1d1d")]
