"""The engine's side of meter pings: asking where the evidence leaves doubt, and holding a
new outage in doubt until the meters asked about it have answered.

`ping_choice` says which meters would settle a prediction; this module reads what it needs
for that (which customers have meters, which meters were asked lately and what they said,
how many pings an incident has used) in a few queries per cycle, and records the pings
(`outage.intake.pings.request_pings`, an outbox sent after the cycle's commit).

A lone caller with a meter is not an outage incident yet: their meter is asked first (the
one ping of reason `single_call`; the others are `verify_incident`), and the
single-service incident opens only once the answers settle it. "On" drops the call
(`evidence.gather`): the fault is inside the premise.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import String, any_, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from outage.grid.models import Customer, Premise
from outage.intake.enums import PingReason, PingState
from outage.intake.headend import HeadEndLimits
from outage.intake.models import MeterPing
from outage.intake.pings import request_pings
from outage.prediction.inference import SERVICE, Explanation, Inference, Prediction
from outage.prediction.ping_choice import PingPolicy, choose_pings, posterior
from outage.settings import Settings


@dataclass(frozen=True)
class Pinging:
    """What the engine needs to ask meters: the head-end's limits and the policy."""

    limits: HeadEndLimits
    policy: PingPolicy
    hold: timedelta
    """The longest a lone caller's outage waits for their meter (a head-end that is down
    must not keep it from opening)."""


@dataclass
class _Meters:
    """What the database says of the meters of the customers in doubt."""

    meter_of: dict[str, str] = field(default_factory=dict)
    """Account -> its premise's meter, for the customers who have one."""
    asked: set[str] = field(default_factory=set)
    """Accounts whose meter was asked within the window: one that gave no answer is not
    asked again (a meter without supply often cannot answer at all)."""
    pending: set[str] = field(default_factory=set)
    spent: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    """Incident -> pings asked for it."""


def configured_pinging(settings: Settings) -> Pinging | None:
    """The engine asks meters only where a head-end is configured."""
    if not settings.ami_headend_url:
        return None
    return Pinging(
        limits=HeadEndLimits(settings.ami_headend_max_batch, settings.ami_headend_max_per_minute),
        policy=PingPolicy(
            confidence=settings.ami_ping_confidence,
            budget=settings.ami_ping_budget,
            loss=settings.ami_ping_loss,
        ),
        hold=settings.ami_ping_wait_minutes,
    )


Doubt = tuple[Prediction, list[Explanation]]
"""A prediction and its rivals, none of them sure enough."""


def in_doubt(inference: Inference, policy: PingPolicy) -> list[Doubt]:
    """The predictions whose likeliest rival is below the policy's confidence."""
    found = []
    for prediction in inference.predictions:
        rivals = inference.rivals(prediction)
        if len(rivals) > 1 and max(posterior(rivals)) < policy.confidence:
            found.append((prediction, rivals))
    return found


def ask(
    session: Session,
    pinging: Pinging,
    doubtful: Sequence[Doubt],
    *,
    incidents: Mapping[str, int],
    since: datetime,
    now: datetime,
) -> set[str]:
    """Record the pings that best settle each doubtful prediction (on its incident, if it
    has one); the accounts whose meters are now waiting to answer."""
    if not doubtful:
        return set()
    everyone = frozenset().union(*(r.out for _, rivals in doubtful for r in rivals))
    meters = _state(session, everyone, set(incidents.values()), since)
    for prediction, rivals in doubtful:
        incident_id = incidents.get(prediction.device)
        if incident_id is not None:
            spent = meters.spent[incident_id]
        else:  # a new outage: the meters of its area asked while it waited
            spent = sum(1 for a in meters.asked if any(a in r.out for r in rivals))
        accounts = choose_pings(
            rivals,
            pingable=meters.meter_of.__contains__,
            asked=meters.asked,
            pending=meters.pending,
            spent=spent,
            policy=pinging.policy,
        )
        caller = prediction.device if prediction.kind == SERVICE else None
        for reason, chosen in (
            (PingReason.SINGLE_CALL, [a for a in accounts if a == caller]),
            (PingReason.VERIFY_INCIDENT, [a for a in accounts if a != caller]),
        ):
            if not chosen:
                continue
            batch = request_pings(
                session,
                pinging.limits,
                [meters.meter_of[a] for a in chosen],
                reason,
                incident_id=incident_id,
                now=now,
            )
            taken = set(batch.asked)
            asked = {a for a in chosen if meters.meter_of[a] in taken}
            meters.asked |= asked
            meters.pending |= asked
    return meters.pending


def kept_back(
    pinging: Pinging,
    doubtful: Sequence[Doubt],
    waiting: set[str],
    *,
    first_seen: Mapping[str, datetime],
    now: datetime,
) -> set[str]:
    """The new outages in doubt that wait for the meters asked about them, at most `hold`
    from their first evidence: customers are told of an outage once the meters have
    settled where it is, not of a guess the next minute moves."""
    found = set()
    for prediction, rivals in doubtful:
        started = min((first_seen[a] for a in prediction.evidence if a in first_seen), default=now)
        if now - started < pinging.hold and any(
            account in rival.out for account in waiting for rival in rivals
        ):
            found.add(prediction.device)
    return found


def link(session: Session, incident_id: int, accounts: Iterable[str], *, since: datetime) -> None:
    """Put the pings asked of a new outage's own customers while it waited on its incident,
    so its page shows them and its budget counts them. Pings of the customers around it
    (under its parent, say) stay unlinked: they may have been asked about a neighbour."""
    wanted = literal(sorted(set(accounts)), ARRAY(String))
    session.execute(
        update(MeterPing)
        .where(
            MeterPing.incident_id.is_(None),
            MeterPing.reason.in_([PingReason.SINGLE_CALL, PingReason.VERIFY_INCIDENT]),
            MeterPing.asked_at >= since,
            MeterPing.premise_id.in_(
                select(Customer.premise_id).where(Customer.account == any_(wanted))
            ),
        )
        .values(incident_id=incident_id)
        .execution_options(synchronize_session=False)
    )


def _state(
    session: Session, accounts: Iterable[str], incident_ids: set[int], since: datetime
) -> _Meters:
    found = _Meters(meter_of=_meters_of(session, accounts))
    account_of = {meter: account for account, meter in found.meter_of.items()}
    if account_of:
        rows = session.execute(
            select(MeterPing.meter_id, MeterPing.state).where(
                MeterPing.meter_id == any_(literal(sorted(account_of), ARRAY(String))),
                MeterPing.asked_at >= since,
            )
        )
        for meter_id, state in rows:
            found.asked.add(account_of[meter_id])
            if state is PingState.PENDING:
                found.pending.add(account_of[meter_id])
    if incident_ids:
        rows = session.execute(
            select(MeterPing.incident_id, func.count())
            .where(MeterPing.incident_id.in_(sorted(incident_ids)))
            .group_by(MeterPing.incident_id)
        )
        for incident_id, count in rows:
            found.spent[incident_id] = count
    return found


def _meters_of(session: Session, accounts: Iterable[str]) -> dict[str, str]:
    """Account -> its premise's meter, in one query."""
    wanted = sorted(set(accounts))
    if not wanted:
        return {}
    rows = session.execute(
        select(Customer.account, Premise.meter_id)
        .join(Premise, Premise.id == Customer.premise_id)
        .where(
            Customer.account == any_(literal(wanted, ARRAY(String))),
            Premise.meter_id.is_not(None),
        )
    )
    return {account: meter_id for account, meter_id in rows if meter_id is not None}
