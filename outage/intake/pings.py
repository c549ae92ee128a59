"""Pinging smart meters: the requests kept to the head-end's limits, sent from an outbox,
and the answers taken in as meter evidence.

`request_pings` records one pending row a meter (`MeterPing`), grouped into requests of at
most the head-end's batch size and no more in a minute than it takes; the rows are the
outbox, sent after the caller's commit by `send_pending`, a job woken by a notification
on `PINGS_CHANNEL` at the commit (and run every few seconds besides), so a crash in between
loses nothing and a head-end that refuses is asked again on the next run. `record_answers`
takes the head-end's answers; `expire_pings` turns a ping unanswered for too long into
no answer.

An answer becomes evidence as a meter event the engine already reads, at the answer's
time: "on" is a `power_restored` (the meter is live: `EvidenceKind.LIVE`), "off" a
`last_gasp` (the premise is out). "No answer" is no event: a meter can be silent for
reasons of its own (its radio, its network).

An "on" to a lone caller's ping (`single_call`) also closes that caller's open reports:
the fault is inside their premise, and they are told so (`outage.intake.inside`).
"""

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage import clock
from outage.grid.regions import UNPLACED, substations_of_premises
from outage.intake.enums import MeterEventKind, PingReason, PingState
from outage.intake.headend import HeadEnd, HeadEndLimits, HeadEndRefused, PingAnswer
from outage.intake.inside import close_inside_premise
from outage.intake.meter_batches import premises_of, rejection_reason
from outage.intake.models import MeterEvent, MeterPing
from outage.intake.schemas import PingAnswerIn, PingAnswersIn, PingAnswersOut, RejectedEventOut
from outage.intake.service import event_time_problem
from outage.locks import METER_PINGS, METER_PINGS_SEND

log = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)

PINGS_CHANNEL = "meter_pings"
"""Notified when pings are recorded: delivered at the commit, so they are sent at once."""


def _head_end_minute() -> timedelta:
    """The head-end's minute in the service's time: it counts real minutes, which a demo's
    scaled clock makes longer."""
    return clock.current().span(MINUTE)


_ANSWER = TypeAdapter(PingAnswerIn)
_EVENT_OF = {PingState.ON: MeterEventKind.POWER_RESTORED, PingState.OFF: MeterEventKind.LAST_GASP}


@dataclass(frozen=True)
class PingBatch:
    """What became of the meters asked for: asked (in requests `request_ids`), already
    waiting for an answer, over the minute's budget (ask again later), or unknown."""

    request_ids: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def request_pings(
    session: Session,
    limits: HeadEndLimits,
    meter_ids: Sequence[str],
    reason: PingReason,
    *,
    incident_id: int | None = None,
    now: datetime,
) -> PingBatch:
    """Record pings of the meters, in order, as far as the head-end's minute allows."""
    session.execute(select(func.pg_advisory_xact_lock(METER_PINGS)))
    wanted = list(dict.fromkeys(meter_ids))
    premises = premises_of(session, set(wanted))
    waiting = _pending(session, premises.keys())
    askable = [m for m in wanted if m in premises and m not in waiting]
    lately = MeterPing.asked_at.between(now - _head_end_minute(), now)
    asked_lately = session.scalar(select(func.count()).where(lately))
    budget = max(limits.max_per_minute - (asked_lately or 0), 0)
    asked, deferred = askable[:budget], askable[budget:]
    request_ids = []
    for start in range(0, len(asked), limits.max_batch):
        chunk = asked[start : start + limits.max_batch]
        request_id = uuid.uuid4().hex
        request_ids.append(request_id)
        session.add_all(
            MeterPing(
                request_id=request_id,
                meter_id=meter_id,
                premise_id=premises[meter_id].premise_id,
                reason=reason,
                incident_id=incident_id,
                asked_at=now,
                state=PingState.PENDING,
            )
            for meter_id in chunk
        )
    if request_ids:  # the sender wakes at the commit, not on its next run
        session.execute(select(func.pg_notify(PINGS_CHANNEL, "")))
    session.flush()
    return PingBatch(
        request_ids=request_ids,
        asked=asked,
        pending=[m for m in wanted if m in waiting],
        deferred=deferred,
        unknown=[m for m in wanted if m not in premises],
    )


def send_pending(session: Session, headend: HeadEnd, *, now: datetime) -> int:
    """Send the unsent pending pings, oldest request first, whole requests within the
    head-end's minute; how many meters were taken. A refusal stops the run: the rest wait
    for the next one. One sender at a time: another finding it busy does nothing."""
    if not session.scalar(select(func.pg_try_advisory_xact_lock(METER_PINGS_SEND))):
        return 0
    lately = MeterPing.sent_at.between(now - _head_end_minute(), now)
    sent_lately = session.scalar(select(func.count()).where(lately)) or 0
    budget = headend.limits.max_per_minute - sent_lately
    sent = 0
    for request_id in _unsent_requests(session, budget, fresh_minute=sent_lately == 0):
        pings = session.scalars(
            select(MeterPing)
            .where(MeterPing.request_id == request_id, MeterPing.state == PingState.PENDING)
            .order_by(MeterPing.id)
        ).all()
        try:
            headend.ping(request_id, [p.meter_id for p in pings])
        except HeadEndRefused as refusal:
            log.warning("pings of request %s wait for the next run: %s", request_id, refusal)
            break
        for ping in pings:
            ping.sent_at = now
        sent += len(pings)
    session.flush()
    return sent


def _unsent_requests(session: Session, budget: int, *, fresh_minute: bool) -> list[str]:
    """The oldest unsent requests whose meters fit in `budget`, whole (a request sent again
    must be the same request). The first is taken even when larger, if the minute is
    untouched: a head-end whose limits shrank must still get its backlog."""
    if budget <= 0:
        return []
    rows = session.execute(
        select(MeterPing.request_id, func.count())
        .where(MeterPing.sent_at.is_(None), MeterPing.state == PingState.PENDING)
        .group_by(MeterPing.request_id)
        .order_by(func.min(MeterPing.asked_at), func.min(MeterPing.id))
        .limit(budget)
    ).all()
    taken: list[str] = []
    for request_id, size in rows:
        if size > budget and (taken or not fresh_minute):
            break
        taken.append(request_id)
        budget -= size
        if budget <= 0:
            break
    return taken


def record_answers(
    session: Session, batch: PingAnswersIn, *, now: datetime, max_age: timedelta
) -> PingAnswersOut:
    """Record the answers to pending pings, each once; answer for the rest."""
    answers, rejected = _read(batch, now=now, max_age=max_age)
    keys: dict[tuple[str, str], PingAnswer] = {}
    for answer in answers:
        keys.setdefault((answer.request_id, answer.meter_id), answer)
    rows = (
        session.scalars(
            select(MeterPing)
            .where(tuple_(MeterPing.request_id, MeterPing.meter_id).in_(sorted(keys)))
            .order_by(MeterPing.id)
            .with_for_update()
        ).all()
        if keys
        else []
    )
    answered = [row for row in rows if row.state is PingState.PENDING]
    for row in answered:
        answer = keys[(row.request_id, row.meter_id)]
        row.state = answer.state
        row.answered_at = answer.answered_at
    _meter_events(session, [row for row in answered if row.state in _EVENT_OF])
    for row in answered:
        answer = keys[(row.request_id, row.meter_id)]
        if row.reason is PingReason.SINGLE_CALL and answer.state is PingState.ON:
            close_inside_premise(session, row.premise_id, answer.answered_at)
    recorded = len(answered)
    found = {(row.request_id, row.meter_id) for row in rows}
    unknown = sorted({meter for request, meter in keys.keys() - found})
    cap = PingAnswersOut.ANSWER_CAP
    session.flush()
    return PingAnswersOut(
        recorded=recorded,
        settled_before=sum(1 for a in answers if (a.request_id, a.meter_id) in found) - recorded,
        unknown=unknown[:cap],
        unknown_count=len(unknown),
        rejected=rejected[:cap],
        rejected_count=len(rejected),
    )


PINGS_MAX = 1000
"""Pings one read gives."""


def pings_of(
    session: Session, *, request_id: str | None = None, incident_id: int | None = None
) -> list[MeterPing]:
    """The pings of a request or of an incident, the latest first (at most `PINGS_MAX`)."""
    query = select(MeterPing).order_by(MeterPing.asked_at.desc(), MeterPing.id.desc())
    if request_id is not None:
        query = query.where(MeterPing.request_id == request_id)
    if incident_id is not None:
        query = query.where(MeterPing.incident_id == incident_id)
    return list(session.scalars(query.limit(PINGS_MAX)))


def expire_pings(session: Session, *, now: datetime, wait: timedelta) -> int:
    """Pings sent longer than `wait` ago and still unanswered are no answer; how many.
    One not sent yet waits in the outbox (its meter was never asked). Those an answer is
    being recorded for are left to it (skipped, not waited for)."""
    overdue = (
        select(MeterPing.id)
        .where(
            MeterPing.state == PingState.PENDING,
            MeterPing.sent_at.is_not(None),
            MeterPing.sent_at < now - wait,
        )
        .with_for_update(skip_locked=True)
    )
    expired = session.scalars(
        update(MeterPing)
        .where(MeterPing.id.in_(overdue.scalar_subquery()))
        .values(state=PingState.NO_ANSWER, answered_at=now)
        .returning(MeterPing.id)
    )
    return len(expired.all())


def _meter_events(session: Session, answered: list[MeterPing]) -> None:
    """The meter event of each answer, stored in one statement: new, or the same one the
    head-end sent (the events' unique key is meter, kind and time)."""
    if not answered:
        return
    key_of = {row.id: (row.meter_id, _EVENT_OF[row.state], row.answered_at) for row in answered}
    substations = substations_of_premises(session, {row.premise_id for row in answered})
    values = []
    for row in answered:
        meter, kind, at = key_of[row.id]
        values.append(
            {
                "meter_id": meter,
                "kind": kind,
                "occurred_at": at,
                "premise_id": row.premise_id,
                "substation_id": substations.get(row.premise_id, UNPLACED),
            }
        )
    session.execute(insert(MeterEvent).values(values).on_conflict_do_nothing())
    stored = session.execute(
        select(MeterEvent.id, MeterEvent.meter_id, MeterEvent.kind, MeterEvent.occurred_at).where(
            tuple_(MeterEvent.meter_id, MeterEvent.kind, MeterEvent.occurred_at).in_(
                sorted(set(key_of.values()))
            )
        )
    )
    ids = {(meter, kind, at): event_id for event_id, meter, kind, at in stored}
    for row in answered:
        row.meter_event_id = ids[key_of[row.id]]


def _read(
    batch: PingAnswersIn, *, now: datetime, max_age: timedelta
) -> tuple[list[PingAnswer], list[RejectedEventOut]]:
    """The batch's valid answers and its rejected ones, with why."""
    answers: list[PingAnswer] = []
    rejected: list[RejectedEventOut] = []
    for index, item in enumerate(batch.answers):
        try:
            parsed = _ANSWER.validate_python(item)
        except ValidationError as exc:
            rejected.append(RejectedEventOut(index=index, reason=rejection_reason(exc)))
            continue
        problem = event_time_problem(parsed.answered_at, now=now, max_age=max_age)
        if problem is not None:
            rejected.append(RejectedEventOut(index=index, reason=problem))
            continue
        answers.append(
            PingAnswer(
                parsed.request_id, parsed.meter_id, PingState(parsed.state), parsed.answered_at
            )
        )
    return answers, rejected


def _pending(session: Session, meter_ids: Iterable[str]) -> set[str]:
    """Those of the meters asked and not yet answered: asking again would tell nothing."""
    wanted = sorted(meter_ids)
    if not wanted:
        return set()
    rows = session.scalars(
        select(MeterPing.meter_id).where(
            MeterPing.state == PingState.PENDING, MeterPing.meter_id.in_(wanted)
        )
    )
    return set(rows)
