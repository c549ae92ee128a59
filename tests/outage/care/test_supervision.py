"""Supervision of care's work, with a clock the test moves: owners, warnings before the
due time, escalation past it (each once), every team's view, and the customer's history."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.model import Premise
from outage.care import owners, service, supervision
from outage.care.enums import RequestState, RequestType, TrailKind
from outage.care.models import CareTeam, ServiceRequest, ServiceRequestEvent
from outage.care.schemas import HistoryStep, OwnerIn, RequestIn, TeamViewOut
from outage.intake.enums import Channel
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from outage.settings import Settings, get_settings

S = RequestState
T0 = datetime(2001, 3, 5, 8, 0, tzinfo=UTC)
"""Long before any other test's requests: the job, run at times near it, sees only ours."""
TARGET = timedelta(hours=48)
"""A meter check's default SLA target."""


def _settings(**changes: object) -> Settings:
    return get_settings().model_copy(
        update={"care_sla_hours": {RequestType.METER_CHECK: TARGET}, **changes}
    )


def _submit(session: Session, premise: Premise, settings: Settings, now: datetime) -> str:
    assert premise.customer is not None
    request = RequestIn(
        type=RequestType.METER_CHECK,
        account=premise.customer.account,
        description="the meter runs fast",
        channel=Channel.WEB,
    )
    return service.submit_request(session, request, settings=settings, now=now).ticket


def _stored(session: Session, ticket: str) -> ServiceRequest:
    found = session.scalar(select(ServiceRequest).where(ServiceRequest.ticket == ticket))
    assert found is not None
    return found


def _trail(session: Session, ticket: str, kind: TrailKind) -> list[ServiceRequestEvent]:
    return list(
        session.scalars(
            select(ServiceRequestEvent)
            .where(
                ServiceRequestEvent.request_id == _stored(session, ticket).id,
                ServiceRequestEvent.kind == kind,
            )
            .order_by(ServiceRequestEvent.id)
        )
    )


def _team(session: Session, supervisor: str | None = None, members: list[str] | None = None) -> str:
    name = f"team-{uuid.uuid4().hex[:8]}"
    owners.save_team(session, name, supervisor=supervisor, members=members)
    return name


def test_a_new_request_goes_to_its_types_team_else_the_default(
    session: Session, care_customer: Premise
) -> None:
    metering = _team(session)
    settings = _settings(care_team_by_type={RequestType.METER_CHECK: metering})
    ticket = _submit(session, care_customer, settings, datetime.now(UTC))
    found = _stored(session, ticket)
    team = session.get_one(CareTeam, found.owner_team_id)
    assert team.name == metering and found.owner_agent is None
    [arrival] = session.scalars(
        select(ServiceRequestEvent).where(ServiceRequestEvent.request_id == found.id)
    )
    assert (arrival.kind, arrival.owner_team, arrival.to_state) == (None, metering, S.RECEIVED)

    other = _submit(session, care_customer, _settings(), datetime.now(UTC))
    default = session.get_one(CareTeam, _stored(session, other).owner_team_id)
    assert default.name == get_settings().care_default_team


def test_routing_of_an_unknown_type_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="meter_chek"):
        owners.check_routing({"meter_chek": "customer-care"})
    owners.check_routing({RequestType.METER_CHECK: "customer-care"})


def test_a_late_request_is_warned_then_escalated_once_each_and_one_worked_in_time_is_not(
    session: Session, care_customer: Premise
) -> None:
    settings = _settings(care_tell_handover=True)
    team = _team(session, supervisor="sup-on-duty", members=["agent-one"])
    late = _submit(session, care_customer, settings, T0)
    in_time = _submit(session, care_customer, settings, T0)
    for ticket in (late, in_time):
        service.set_owner(
            session,
            ticket,
            OwnerIn(team=team, agent="agent-one", reason="metering backlog"),
            actor="test-agent",
            settings=settings,
            now=T0 + timedelta(minutes=5),
        )
    service.transition(
        session, in_time, to=S.IN_PROGRESS, reason=None, actor="a", now=T0 + timedelta(hours=2)
    )
    service.transition(
        session, in_time, to=S.DONE, reason=None, actor="a", now=T0 + timedelta(hours=10)
    )

    def run(hours: float) -> None:
        supervision.escalate(session, settings, T0 + timedelta(hours=hours))
        session.flush()

    run(30)  # 62% of the time gone: nothing yet
    assert _trail(session, late, TrailKind.WARNED) == []
    run(38.5)  # past 80%: the owner is warned
    [warned] = _trail(session, late, TrailKind.WARNED)
    assert (warned.owner_team, warned.owner_agent) == (team, "agent-one")
    assert warned.to_state == warned.from_state == S.RECEIVED
    assert _stored(session, late).warned_at == T0 + timedelta(hours=38.5)
    run(40)
    assert len(_trail(session, late, TrailKind.WARNED)) == 1
    assert _trail(session, late, TrailKind.ESCALATED) == []
    view = _view(session, team, T0 + timedelta(hours=40))
    assert view.overdue == []

    run(48.1)  # past due: escalated to the team's supervisor
    [escalated] = _trail(session, late, TrailKind.ESCALATED)
    assert (escalated.owner_team, escalated.owner_agent) == (team, "sup-on-duty")
    found = _stored(session, late)
    assert found.owner_agent == "sup-on-duty" and found.state is S.RECEIVED
    run(60)
    run(100)
    assert len(_trail(session, late, TrailKind.WARNED)) == 1
    assert len(_trail(session, late, TrailKind.ESCALATED)) == 1

    for kind in (TrailKind.WARNED, TrailKind.ESCALATED):
        assert _trail(session, in_time, kind) == []

    view = _view(session, team, T0 + timedelta(hours=49))
    assert [(r.ticket, r.agent, r.escalated) for r in view.overdue] == [(late, "sup-on-duty", True)]

    # The requester heard the team's name, never the supervisor's.
    told = [
        e.details
        for e in session.scalars(
            select(NotificationEvent)
            .where(
                NotificationEvent.service_request_id == found.id,
                NotificationEvent.kind == EventKind.REQUEST_UPDATE,
            )
            .order_by(NotificationEvent.id)
        )
    ]
    handovers = [d for d in told if d.get("team")]
    assert [(d["team"], d["escalated"]) for d in handovers] == [(team, False), (team, True)]
    assert "sup-on-duty" not in str(told) and "agent-one" not in str(told)


def _view(session: Session, team: str, now: datetime) -> TeamViewOut:
    views = supervision.team_views(session, since=now - timedelta(days=30), now=now)
    [view] = [v for v in views if v.team == team]
    return view


def test_the_team_view_lists_low_ratings_of_the_teams_requests(
    session: Session, care_customer: Premise
) -> None:
    settings = _settings()
    team = _team(session)
    now = datetime.now(UTC)
    tickets = [_submit(session, care_customer, settings, now) for _ in range(3)]
    for ticket, rating in zip(tickets, (1, 2, 4), strict=True):
        service.set_owner(
            session, ticket, OwnerIn(team=team), actor="a", settings=settings, now=now
        )
        service.transition(session, ticket, to=S.IN_PROGRESS, reason=None, actor="a", now=now)
        service.transition(session, ticket, to=S.DONE, reason=None, actor="a", now=now)
        service.rate_request(session, ticket, rating=rating, comment="<b>slow</b>", now=now)
    view = _view(session, team, now + timedelta(minutes=1))
    assert sorted(r.ticket for r in view.low_ratings) == sorted(tickets[:2])
    assert {r.rating for r in view.low_ratings} == {1, 2}


def test_reassignment_is_refused_with_a_reason_and_changes_nothing(
    session: Session, care_customer: Premise
) -> None:
    settings = _settings()
    team = _team(session, members=["agent-two"])
    ticket = _submit(session, care_customer, settings, datetime.now(UTC))
    before = _stored(session, ticket).owner_team_id

    def refused(error: type[Exception], owner: OwnerIn) -> None:
        with pytest.raises(error) as raised, session.begin_nested():
            service.set_owner(session, ticket, owner, actor="a", settings=settings)
        assert str(raised.value)
        assert _stored(session, ticket).owner_team_id == before
        assert _trail(session, ticket, TrailKind.ASSIGNED) == []

    refused(owners.UnknownTeam, OwnerIn(team="no-such-team"))
    refused(owners.NotInTeam, OwnerIn(team=team, agent="a-stranger"))
    refused(owners.SameOwner, OwnerIn(team=get_settings().care_default_team))
    service.set_owner(
        session, ticket, OwnerIn(team=team, agent="agent-two"), actor="a", settings=settings
    )
    assert _stored(session, ticket).owner_agent == "agent-two"
    service.transition(session, ticket, to=S.REJECTED, reason="a duplicate", actor="a")
    before = _stored(session, ticket).owner_team_id
    with pytest.raises(owners.RequestClosed, match="closed"):
        service.set_owner(session, ticket, OwnerIn(team=team), actor="a", settings=settings)
    assert len(_trail(session, ticket, TrailKind.ASSIGNED)) == 1


def test_the_history_tells_what_happened_without_notes_or_staff(
    session: Session, care_customer: Premise
) -> None:
    settings = _settings()
    team = _team(session, supervisor="sup-secret", members=["agent-secret"])
    ticket = _submit(session, care_customer, settings, T0)
    moment = T0 + timedelta(hours=1)
    service.transition(
        session, ticket, to=S.IN_PROGRESS, reason="staff-only note", actor="agent-x", now=moment
    )
    service.set_owner(
        session,
        ticket,
        OwnerIn(team=team, agent="agent-secret", reason="internal reason"),
        actor="agent-x",
        settings=settings,
        now=moment + timedelta(minutes=1),
    )
    supervision.escalate(session, settings, T0 + timedelta(hours=40))
    supervision.escalate(session, settings, T0 + timedelta(hours=49))
    service.transition(
        session, ticket, to=S.DONE, reason=None, actor="sup", now=T0 + timedelta(hours=50)
    )
    service.rate_request(session, ticket, rating=3, comment="ok", now=T0 + timedelta(hours=51))
    shown = supervision.history(session, ticket.lower())
    assert shown is not None and shown.ticket == ticket
    assert [(e.step, e.state, e.team) for e in shown.entries] == [
        (HistoryStep.RECEIVED, S.RECEIVED, None),
        (HistoryStep.ASSIGNED, None, get_settings().care_default_team),
        (HistoryStep.STATE, S.IN_PROGRESS, None),
        (HistoryStep.ASSIGNED, None, team),
        (HistoryStep.ESCALATED, None, team),
        (HistoryStep.CLOSED, S.DONE, None),
        (HistoryStep.RATED, None, None),
    ]
    text = shown.model_dump_json()
    for secret in ("staff-only note", "internal reason", "agent-secret", "sup-secret", "agent-x"):
        assert secret not in text
    assert supervision.history(session, "010101-ZZZZZZ") is None


def test_a_team_without_a_supervisor_keeps_its_late_requests_until_it_has_one(
    session: Session, care_customer: Premise
) -> None:
    start = T0 - timedelta(days=400)  # before the other tests' requests: ours alone are due
    settings = _settings()
    team = _team(session)
    ticket = _submit(session, care_customer, settings, start)
    service.set_owner(session, ticket, OwnerIn(team=team), actor="a", settings=settings, now=start)
    supervision.escalate(session, settings, start + timedelta(hours=49))
    assert _trail(session, ticket, TrailKind.ESCALATED) == []
    assert _stored(session, ticket).escalated_at is None
    owners.save_team(session, team, supervisor="sup-late", members=None)
    supervision.escalate(session, settings, start + timedelta(hours=50))
    [escalated] = _trail(session, ticket, TrailKind.ESCALATED)
    assert escalated.owner_agent == "sup-late"


def test_a_request_that_fails_to_escalate_does_not_hold_up_the_others(
    session: Session, care_customer: Premise, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = T0 - timedelta(days=800)
    settings = _settings(care_tell_handover=True)
    team = _team(session, supervisor="sup-on-duty")
    first, second = (_submit(session, care_customer, settings, start) for _ in range(2))
    for ticket in (first, second):
        service.set_owner(
            session, ticket, OwnerIn(team=team), actor="a", settings=settings, now=start
        )
    real = supervision.tell_handover

    def fails_for_the_first(
        session: Session, found: ServiceRequest, *args: object, **kw: object
    ) -> None:
        if found.ticket == first:
            raise RuntimeError("the outbox is unwell")
        real(session, found, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(supervision, "tell_handover", fails_for_the_first)
    assert supervision.escalate(session, settings, start + timedelta(hours=49)) == (0, 1)
    assert _trail(session, first, TrailKind.ESCALATED) == []
    assert len(_trail(session, second, TrailKind.ESCALATED)) == 1
    monkeypatch.undo()
    assert supervision.escalate(session, settings, start + timedelta(hours=50)) == (0, 1)
    assert len(_trail(session, first, TrailKind.ESCALATED)) == 1


def test_the_team_view_counts_all_its_late_requests_and_lists_the_most_overdue(
    session: Session, care_customer: Premise
) -> None:
    start = T0 - timedelta(days=1200)
    settings = _settings()
    team = _team(session)
    tickets = [
        _submit(session, care_customer, settings, start + timedelta(hours=h)) for h in (0, 1)
    ]
    for ticket in tickets:
        service.set_owner(
            session, ticket, OwnerIn(team=team), actor="a", settings=settings, now=start
        )
    now = start + timedelta(hours=60)
    [view] = [
        v
        for v in supervision.team_views(session, since=now - timedelta(days=1), now=now, limit=1)
        if v.team == team
    ]
    assert view.overdue_count == 2
    assert [r.ticket for r in view.overdue] == tickets[:1]
