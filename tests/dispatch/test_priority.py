"""Priority tiers and their weights."""

from dispatch.model import Job
from dispatch.priority import DEFAULT_PRIORITIES, Priorities, Tier

P = DEFAULT_PRIORITIES


def job(id: int, customers: int = 0, *critical: str, hazard: bool = False) -> Job:
    return Job(
        id=id,
        location=(0.0, 0.0),
        repair_s=3600,
        customers=customers,
        critical=critical,
        hazard=hazard,
    )


def test_tiers() -> None:
    assert P.tier(job(1, 10, "hospital", hazard=True)) is Tier.HAZARD
    assert P.tier(job(2, 10, "life_support")) is Tier.CRITICAL
    assert P.tier(job(3, 10)) is Tier.OUTAGE


def test_weights_add_customers_critical_customers_and_hazard() -> None:
    assert P.weight(job(1, 120)) == 120
    assert P.weight(job(2, 120, "hospital", "life_support")) == 120 + 10_000 + 2_000
    assert P.weight(job(3, 5, "prison")) == 5 + P.other_critical_weight
    assert P.weight(job(4, 0, hazard=True)) == 100_000
    assert P.weight(job(5, 0)) == 1, "a job with nobody out still counts"


def test_a_hazard_outweighs_any_outage_job() -> None:
    biggest = job(1, 50_000, "hospital", "water_pumping")
    assert P.weight(job(2, 0, hazard=True)) > P.weight(biggest)


def test_a_critical_customer_outweighs_a_feeder_of_customers() -> None:
    for kind in ("hospital", "water_pumping", "life_support"):
        assert P.weight(job(1, 1, kind)) > P.weight(job(2, 1_500))


def test_the_greedy_order_is_tier_first_then_weight() -> None:
    jobs = [
        job(1, 40_000),
        job(2, 3, "life_support"),
        job(3, 0, hazard=True),
        job(4, 50, "hospital"),
        job(5, 41_000),
    ]
    assert [j.id for j in sorted(jobs, key=P.rank)] == [3, 4, 2, 5, 1]


def test_weights_are_tunable() -> None:
    flat = Priorities(hazard_weight=0, critical_weights={}, other_critical_weight=0)
    assert flat.weight(job(1, 7, "hospital", hazard=True)) == 7
