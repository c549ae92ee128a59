"""The storm benchmark's own parts; the whole of it runs in `outage bench --quick` (CI)."""

import os
import random

from benchmarks import storm
from grid_topology.model import GridModel
from outage.simulation.storm import StormGrid


def _out(grid: StormGrid, heads: tuple[str, ...]) -> int:
    return sum(len(grid.topology.downstream(head).accounts) for head in heads)


def test_the_storm_trips_feeders_until_its_share_is_out(sample_grid: GridModel) -> None:
    grid = StormGrid.from_model(sample_grid)
    wanted = round(storm.OUT_SHARE * len(sample_grid.premises))
    heads = storm.tripped_feeders(grid, random.Random(0), wanted)
    assert _out(grid, heads) >= wanted
    assert _out(grid, heads[:-1]) < wanted


def test_the_same_seed_trips_the_same_feeders(sample_grid: GridModel) -> None:
    grid = StormGrid.from_model(sample_grid)
    first = storm.tripped_feeders(grid, random.Random(3), 500)
    assert storm.tripped_feeders(grid, random.Random(3), 500) == first


def test_memory_is_sampled_per_process() -> None:
    memory = storm.PeakMemory({"bench": os.getpid()})
    memory.sample()
    assert memory.most["bench"] > 0
