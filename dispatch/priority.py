"""Job priority in tiers, and how the tiers become weights of the optimiser's objective.

The tiers, first to last:

1. hazard: a danger to the public (wires down, fire, a tree on a line);
2. critical: critical customers are out (hospitals, water pumping, life support);
3. outage: the customer-minutes at stake.

The optimiser minimises the sum over jobs of weight x time until done, so a job's weight
is what one minute of delay to it costs, in customer-equivalents:

    weight = customers x customer_weight + sum of critical_weights[kind] + hazard_weight

The tier terms make the tiers:

- a hazard (100,000) outweighs any outage job: more customers than a substation serves;
- a critical customer outweighs the customers of a typical feeder-sized outage (a
  feeder has one to a few thousand): a hospital 10,000, a water pump 5,000 (the people
  who drink its water), a life-support customer 2,000 (registered, with backup, called
  at once, but a life).

These are weights, not absolute ranks: the optimiser may send the nearest crew to a
critical job and a slightly farther one to a hazard, or do a breaker with 20,000
customers out before a life-support customer, when that is worth it at these prices.
On one crew it puts first the job with the larger weight per hour of work (Smith's rule),
so a hazard goes before any outage job unless its repair takes many times longer. The
greedy rule instead applies the tiers strictly, as a dispatcher's rule of thumb
(`Priorities.rank`): every hazard, then every critical job, then the most customers.

Larger tier terms make the tiers stricter and cost customer-minutes; the "strict tiers"
row of `outage bench dispatch` measures by how much.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from dispatch.model import Job


class Tier(StrEnum):
    HAZARD = "hazard"
    CRITICAL = "critical"
    OUTAGE = "outage"


TIER_ORDER: tuple[Tier, ...] = (Tier.HAZARD, Tier.CRITICAL, Tier.OUTAGE)

CRITICAL_WEIGHTS: Mapping[str, int] = MappingProxyType(
    {"hospital": 10_000, "water_pumping": 5_000, "life_support": 2_000}
)
"""Customer-equivalents of one critical customer of each kind (the kinds of
`grid_topology.model.Customer.critical`)."""


@dataclass(frozen=True)
class Priorities:
    """The weights of the tiers, in customer-equivalents; a utility may tune them."""

    hazard_weight: int = 100_000
    critical_weights: Mapping[str, int] = field(default_factory=lambda: CRITICAL_WEIGHTS)
    other_critical_weight: int = 2_000
    """For a critical kind not in `critical_weights`."""
    customer_weight: int = 1
    min_weight: int = 1
    """Even a job with nobody out (a meter to check) is worth doing eventually."""

    def tier(self, job: Job) -> Tier:
        """Hazard if it is one, critical if critical customers are out, outage otherwise."""
        if job.hazard:
            return Tier.HAZARD
        if job.critical:
            return Tier.CRITICAL
        return Tier.OUTAGE

    def weight(self, job: Job) -> int:
        critical = sum(
            self.critical_weights.get(kind, self.other_critical_weight) for kind in job.critical
        )
        hazard = self.hazard_weight if job.hazard else 0
        return max(self.min_weight, job.customers * self.customer_weight + critical + hazard)

    def rank(self, job: Job) -> tuple[int, int, int]:
        """The greedy rule's order, most urgent first: tier, then weight, then the job id."""
        return (TIER_ORDER.index(self.tier(job)), -self.weight(job), job.id)


DEFAULT_PRIORITIES = Priorities()
