"""The published figures as the public routes and page get them: from a memo of a few
minutes per range asked for (`Memo`), since every visitor is shown the same months."""

from typing import Annotated

from fastapi import Query, Request

from outage import clock
from outage.reliability import transparency
from outage.reliability.stored import read_snapshot
from outage.web.deps import ReadSessionDep, SettingsDep, TopologyDep
from outage.web.memo import Memo

FIGURES_TTL_S = 600.0
"""Ended months change only when a late record comes in: ten minutes is fresh enough."""
FIGURES_KEPT = 32
"""Ranges kept at once."""

FirstQuery = Annotated[
    str | None,
    Query(
        max_length=20,
        description="The first month (YYYY-MM); by default 11 months before the last.",
    ),
]
LastQuery = Annotated[
    str | None,
    Query(
        max_length=20,
        description="The last month (YYYY-MM), which must be over; by default last month.",
    ),
]


def figures_memo() -> Memo[transparency.Figures]:
    return Memo(FIGURES_TTL_S, FIGURES_KEPT)


def published_figures(
    request: Request,
    session: ReadSessionDep,
    topology: TopologyDep,
    config: SettingsDep,
    first: FirstQuery = None,
    last: LastQuery = None,
) -> transparency.Figures:
    """The figures the query asks for; a bad month or range raises `InvalidMonths` (the
    routes answer 422 with the reason). Regions are published from as many customers as
    an area of the public map (`map_min_customers`)."""
    first_month = transparency.month_of(first, "first") if first else None
    last_month = transparency.month_of(last, "last") if last else None
    memo: Memo[transparency.Figures] = request.app.state.figures

    def compute() -> transparency.Figures:
        read_snapshot(session)  # before the network is read: the figures' transaction
        return transparency.published_figures(
            session,
            first=first_month,
            last=last_month,
            zone=config.local_timezone,
            topology=topology.get(session),
            as_of=clock.now(),
            min_customers=config.map_min_customers,
        )

    return memo.get((first_month, last_month), compute)
