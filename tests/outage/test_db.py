"""The service's connections and the values it sends the database."""

import pytest
from sqlalchemy import text

from outage.db import array_literal, session_factory


def test_the_services_connections_run_without_jit(grid_database: str) -> None:
    with session_factory(grid_database)() as session:
        assert session.execute(text("SHOW jit")).scalar() == "off"


@pytest.mark.parametrize(
    "values",
    [
        ["N1", "LV4.303 Load 19"],
        ['a "quoted", {braced} ref', "back\\slash", "", "NULL"],
        [],
    ],
)
def test_an_array_literal_reads_back_as_the_values_it_was_made_of(
    grid_database: str, values: list[str]
) -> None:
    with session_factory(grid_database)() as session:
        read = session.execute(
            text("SELECT CAST(:values AS text[])"), {"values": array_literal(values)}
        ).scalar()
    assert read == values
