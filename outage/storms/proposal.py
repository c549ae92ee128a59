"""Whether to declare a storm, and at what level: a proposal for the supervisor, from the
rate of new outages and the share of customers out. Pure.

Either measure reaching a level's threshold proposes that level: a line of thunderstorms
opens many small outages, a typhoon's first gust trips whole feeders.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    incidents_per_hour: tuple[int, int, int] = (10, 30, 100)
    """New outages in the last hour that propose levels 1, 2 and 3."""
    share_out: tuple[float, float, float] = (0.02, 0.08, 0.20)
    """Shares of all customers out that propose levels 1, 2 and 3."""


@dataclass(frozen=True)
class Proposal:
    level: int
    """0: no storm."""
    incidents_last_hour: int
    customers_out: int
    customers: int

    @property
    def share_out(self) -> float:
        return self.customers_out / self.customers if self.customers else 0.0


def propose(
    incidents_last_hour: int,
    customers_out: int,
    customers: int,
    thresholds: Thresholds = Thresholds(),
) -> Proposal:
    share = customers_out / customers if customers else 0.0
    level = 0
    for n, (rate, out) in enumerate(
        zip(thresholds.incidents_per_hour, thresholds.share_out, strict=True)
    ):
        if incidents_last_hour >= rate or share >= out:
            level = n + 1
    return Proposal(level, incidents_last_hour, customers_out, customers)
