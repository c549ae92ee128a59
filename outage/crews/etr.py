"""What estimated restoration times are learnt from: the repairs already done, and the
estimates told before with what became of them (`dispatch.etr`).

A repair lasts from the crew's first report on site to the restoration. Momentary
interruptions and incidents no crew reached are left out: they say nothing of repairs. A
repair was in a storm when any estimate of it was made in one (as its record says).
An estimate's record is written with it into the incident's audit trail (`estimate_record`)
and read back once the incident is restored (`estimate_outcomes`): the first estimate of
each stage per incident, so that a long outage re-estimated often does not outweigh others.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.etr import (
    SERVICE,
    Calibration,
    Etr,
    Outcome,
    Quantiles,
    RepairHistory,
    RepairSample,
    Spread,
    Stage,
    daytime,
)
from outage.grid.models import Device
from outage.incidents.enums import AuditAction
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident, IncidentEvent

LOOKBACK = timedelta(days=365)
"""Repairs older than this are of another network, another workforce."""
MAX_SAMPLES = 20_000
"""The newest ones; percentiles need no more."""
MAX_OUTCOMES = 2_000
"""The newest estimates' outcomes: the calibration follows the estimator as it learns."""

_DONE = (IncidentStatus.RESTORED, IncidentStatus.CLOSED)


def repair_samples(session: Session, *, now: datetime, zone: tzinfo) -> list[RepairSample]:
    on_site = (
        select(
            IncidentEvent.incident_id.label("incident_id"),
            func.min(IncidentEvent.at).label("at"),
        )
        .where(IncidentEvent.action == AuditAction.ON_SITE)
        .group_by(IncidentEvent.incident_id)
        .subquery()
    )
    storm = (
        select(
            IncidentEvent.incident_id.label("incident_id"),
            func.bool_or(IncidentEvent.details["estimate"]["storm"].as_boolean()).label("storm"),
        )
        .where(IncidentEvent.action == AuditAction.ETR_SET)
        .group_by(IncidentEvent.incident_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Device.kind,
            Incident.premise_id,
            Incident.cause,
            Incident.restored_at,
            on_site.c.at,
            storm.c.storm,
        )
        .join(on_site, on_site.c.incident_id == Incident.id)
        .outerjoin(storm, storm.c.incident_id == Incident.id)
        .outerjoin(Device, Device.id == Incident.device_id)
        .where(
            Incident.status.in_(_DONE),
            Incident.momentary.is_(False),
            Incident.restored_at >= now - LOOKBACK,
            Incident.restored_at > on_site.c.at,
        )
        .order_by(Incident.restored_at.desc())
        .limit(MAX_SAMPLES)
    )
    samples = []
    for kind, premise_id, cause, restored_at, arrived_at, in_storm in rows:
        if kind is None and premise_id is None:
            continue
        samples.append(
            RepairSample(
                device_kind=str(kind) if kind is not None else SERVICE,
                cause=cause,
                duration_s=(restored_at - arrived_at).total_seconds(),
                daytime=daytime(arrived_at, zone),
                storm=in_storm,
            )
        )
    return samples


def estimate_record(etr: Etr) -> dict[str, Any]:
    """What an estimate was made of, for the audit trail (`set_etr`'s `estimate`)."""
    assert etr.raw is not None and etr.made_at is not None, "a predicted ETR"
    return {
        "stage": etr.stage.value,
        "storm": etr.storm,
        "made_at": etr.made_at.isoformat(),
        "earliest_s": round(etr.raw.earliest_s, 1),
        "expected_s": round(etr.raw.expected_s, 1),
        "latest_s": round(etr.raw.latest_s, 1),
    }


def _outcome(record: Mapping[str, Any], restored_at: datetime) -> Outcome | None:
    try:
        made_at = datetime.fromisoformat(record["made_at"])
        return Outcome(
            stage=Stage(record["stage"]),
            storm=bool(record["storm"]),
            estimate=Spread(
                float(record["earliest_s"]), float(record["expected_s"]), float(record["latest_s"])
            ),
            actual_s=(restored_at - made_at).total_seconds(),
        )
    except (KeyError, TypeError, ValueError):
        return None  # a record of another shape: nothing to learn from


def estimate_outcomes(session: Session, *, now: datetime) -> list[Outcome]:
    """The first estimate of each stage of the incidents restored last (in the last
    year), newest first: at most `MAX_OUTCOMES`, however many estimates each had."""
    stage = IncidentEvent.details["estimate"]["stage"].astext
    firsts = (
        select(
            IncidentEvent.incident_id,
            IncidentEvent.details["estimate"].label("record"),
            Incident.restored_at,
        )
        .join(Incident, Incident.id == IncidentEvent.incident_id)
        .where(
            IncidentEvent.action == AuditAction.ETR_SET,
            IncidentEvent.details.has_key("estimate"),
            Incident.status.in_(_DONE),
            Incident.momentary.is_(False),
            Incident.restored_at >= now - LOOKBACK,
        )
        .order_by(IncidentEvent.incident_id, stage, IncidentEvent.at, IncidentEvent.id)
        .distinct(IncidentEvent.incident_id, stage)
        .subquery()
    )
    rows = session.execute(
        select(firsts.c.record, firsts.c.restored_at)
        .order_by(firsts.c.restored_at.desc(), firsts.c.incident_id)
        .limit(MAX_OUTCOMES)
    )
    return [
        outcome
        for record, restored_at in rows
        if isinstance(record, Mapping) and (outcome := _outcome(record, restored_at)) is not None
    ]


@dataclass(frozen=True)
class EtrModel:
    """What a planning run estimates ETRs with."""

    history: RepairHistory
    calibration: Calibration


def etr_model(session: Session, *, now: datetime, quantiles: Quantiles, zone: tzinfo) -> EtrModel:
    """Percentiles of the restored incidents' repairs (defaults where there are too few),
    calibrated on the outcomes of the estimates told before."""
    return EtrModel(
        history=RepairHistory(repair_samples(session, now=now, zone=zone), quantiles=quantiles),
        calibration=Calibration(estimate_outcomes(session, now=now), quantiles=quantiles),
    )
