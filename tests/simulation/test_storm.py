"""The storm scenario generator: seeded, consistent with its faults, keyed for retries."""

from collections import Counter

import pytest

from grid_topology.model import GridModel
from outage.simulation.storm import (
    ContactChannel,
    Storm,
    StormGrid,
    faults_repaired_by,
    generate_storm,
    switching_site,
)


@pytest.fixture(scope="module")
def grid(sample_grid: GridModel) -> StormGrid:
    return StormGrid.from_model(sample_grid)


def storm(
    grid: StormGrid,
    *,
    seed: int = 3,
    faults: int = 5,
    call_rate: float = 0.3,
    noise: float = 0.05,
    gateway: bool = True,
) -> Storm:
    return generate_storm(
        grid,
        faults=faults,
        call_rate=call_rate,
        seed=seed,
        run_id="t",
        noise=noise,
        gateway=gateway,
    )


def test_the_same_seed_gives_the_same_storm(grid: StormGrid) -> None:
    assert storm(grid) == storm(grid)
    assert storm(grid).faults != storm(grid, seed=4).faults


def test_the_first_fault_starts_the_storm(grid: StormGrid) -> None:
    faults = storm(grid).faults
    assert min(f.start_s for f in faults) == 0
    assert len(faults) == 5


def test_every_caller_out_of_supply_is_downstream_of_their_fault(grid: StormGrid) -> None:
    scenario = storm(grid)
    areas = {f.device: f.accounts for f in scenario.faults}
    callers = [c for c in scenario.contacts if not c.is_noise]
    assert callers
    for contact in callers:
        assert contact.fault is not None
        assert contact.account in areas[contact.fault]
        assert contact.time_s >= next(
            f.start_s for f in scenario.faults if f.device == contact.fault
        )


def test_noise_calls_come_from_customers_who_are_not_out(grid: StormGrid) -> None:
    scenario = storm(grid, noise=0.5)
    out = {a for f in scenario.faults for a in f.accounts}
    noise = [c for c in scenario.contacts if c.is_noise]
    assert noise
    assert all(c.account not in out for c in noise)


def test_each_contact_has_its_own_idempotency_key(grid: StormGrid) -> None:
    keys = [c.key for c in storm(grid).contacts]
    assert len(set(keys)) == len(keys)
    assert all(k.startswith("t-") for k in keys)


def test_contacts_use_every_channel_and_gps_fixes_lie_near_the_premise(grid: StormGrid) -> None:
    scenario = storm(grid, faults=8, call_rate=0.6)
    channels = Counter(c.channel for c in scenario.contacts)
    assert set(channels) == set(ContactChannel)
    for contact in scenario.contacts:
        if contact.channel is ContactChannel.WEB_GPS:
            assert contact.location is not None
            lon, lat = grid.reporters[contact.account].location
            assert abs(contact.location[0] - lon) < 0.002
            assert abs(contact.location[1] - lat) < 0.002
        else:
            assert contact.location is None


def test_without_a_gateway_everyone_uses_the_web(grid: StormGrid) -> None:
    channels = {c.channel for c in storm(grid, call_rate=0.6, gateway=False).contacts}
    assert channels <= {ContactChannel.WEB_ACCOUNT, ContactChannel.WEB_GPS}


def test_last_gasps_come_from_meters_in_the_faulted_areas_soon_after_the_fault(
    grid: StormGrid,
) -> None:
    scenario = storm(grid)
    faults = {f.device: f for f in scenario.faults}
    meters = {r.meter_id: r.account for r in grid.reporters.values()}
    assert scenario.gasps
    for gasp in scenario.gasps:
        fault = faults[gasp.fault]
        assert meters[gasp.meter_id] in fault.accounts
        assert 0 < gasp.time_s - fault.start_s <= 10


def test_a_crew_at_the_faulted_device_repairs_that_fault(grid: StormGrid) -> None:
    faults = list(storm(grid).faults)
    fault = faults[0]
    assert faults_repaired_by(faults, fault.device, grid.topology) == [fault]


def test_a_crew_sent_upstream_of_a_fault_finds_it_below(grid: StormGrid) -> None:
    fault = next(f for f in storm(grid).faults if grid.topology.upstream(f.device).devices)
    above = grid.topology.upstream(fault.device).devices[0]
    assert fault in faults_repaired_by([fault], above, grid.topology)


def test_a_crew_at_a_single_service_finds_the_fault_around_it(grid: StormGrid) -> None:
    fault = storm(grid).faults[0]
    account = sorted(fault.accounts)[0]
    assert faults_repaired_by([fault], account, grid.topology) == [fault]
    assert faults_repaired_by([fault], "no such account", grid.topology) == []


def test_a_storm_can_start_with_a_fault_at_a_chosen_device_and_others_away_from_it(
    grid: StormGrid,
) -> None:
    head = "MV3.101 Switch 12"
    scenario = generate_storm(grid, faults=3, call_rate=0.3, seed=3, run_id="t", first_at=head)
    first, *others = scenario.faults
    assert (first.device, first.start_s) == (head, 0.0)
    assert first.accounts == grid.topology.downstream(head).accounts
    assert others
    assert all(f.accounts.isdisjoint(first.accounts) for f in others)


def test_the_switching_site_is_a_line_below_a_feeder_head_whose_feeder_can_be_fed_again(
    grid: StormGrid,
) -> None:
    site = switching_site(grid)
    assert site is not None
    assert site.tripped in grid.feeder_heads
    assert site.line in grid.mv_lines
    assert site.restorable == grid.topology.downstream(site.tripped).accounts
