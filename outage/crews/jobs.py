"""The engine's periodic dispatch job: plan again when incidents or crews changed.

`jobs(sessions, settings)` gives `outage.scheduler` one interval job. Each run is cheap when
nothing changed (a fingerprint of the active incidents, crews and pins against the
newest plan's); it plans again when something did, when the plan is older than
`dispatch_plan_max_age_minutes`, or when an estimated ETR is about to lapse, so ETRs
are re-estimated before customers see them pass (`outage.crews.planning.replan`).
"""

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage import clock
from outage.crews.planning import PlanSettings, replan
from outage.db import session_scope
from outage.grid.live import LiveTopology
from outage.scheduler import Job
from outage.settings import Settings

log = logging.getLogger(__name__)

JOB_ID = "dispatch-replan"


class Replanner:
    """The job's state: the sessions and the network it follows (the process's, when given;
    else a copy of its own, loaded when needed)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        live: LiveTopology | None = None,
    ) -> None:
        self.sessions = sessions
        self.config = PlanSettings.from_settings(settings)
        self.topology = live or LiveTopology()

    def __call__(self) -> int | None:
        """One run: the new plan's id, or None when nothing needed one."""
        with session_scope(self.sessions) as session:
            plan_id = replan(
                session,
                now=clock.now(),
                topology=lambda: self.topology.get(session),
                config=self.config,
            )
        if plan_id is not None:
            log.info("dispatch plan %d made", plan_id)
        return plan_id


def jobs(
    sessions: sessionmaker[Session], settings: Settings, live: LiveTopology | None = None
) -> Job:
    """The re-planning job; one run at a time, a late run skipped rather than stacked."""

    def register(scheduler: BackgroundScheduler) -> None:
        scheduler.add_job(
            Replanner(sessions, settings, live),
            "interval",
            seconds=settings.dispatch_replan_s.total_seconds(),
            id=JOB_ID,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )

    return register
