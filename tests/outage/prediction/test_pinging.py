"""The engine asks meters where calls leave doubt, on the real database."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from grid_topology.topology import Topology
from outage import clock
from outage.db import session_factory, session_scope
from outage.incidents.models import Incident
from outage.intake.enums import PingReason, PingState
from outage.intake.headend import HeadEndLimits
from outage.intake.models import MeterPing
from outage.intake.pings import record_answers
from outage.intake.schemas import PingAnswersIn
from outage.prediction.engine import CycleResult, Engine
from outage.prediction.ping_choice import PingPolicy
from outage.prediction.pinging import Pinging
from tests.outage.prediction.test_engine import WINDOW, _fuse_with_customers

PINGING = Pinging(
    limits=HeadEndLimits(max_batch=100, max_per_minute=1000),
    policy=PingPolicy(),
    hold=timedelta(minutes=10),
)


def cycle(database_url: str, pinging: Pinging | None = PINGING) -> CycleResult:
    with session_scope(session_factory(database_url)) as session:
        engine = Engine.load(session, window=WINDOW)
        engine.pinging = pinging
        return engine.run_cycle(session)


def report(api: TestClient, account: str) -> str:
    response = api.post("/api/v1/reports", json={"account": account})
    assert response.status_code == 201
    return str(response.json()["ticket"])


def pings(database_url: str) -> list[MeterPing]:
    with session_scope(session_factory(database_url)) as session:
        rows = session.scalars(select(MeterPing).order_by(MeterPing.id)).all()
        session.expunge_all()
        return list(rows)


def incidents(database_url: str) -> list[Incident]:
    with session_scope(session_factory(database_url)) as session:
        rows = session.scalars(select(Incident).order_by(Incident.id)).all()
        session.expunge_all()
        return list(rows)


def answer(database_url: str, ping: MeterPing, state: str) -> None:
    batch = PingAnswersIn(
        answers=[
            {
                "request_id": ping.request_id,
                "meter_id": ping.meter_id,
                "state": state,
                "answered_at": clock.now().isoformat(),
            }
        ]
    )
    with session_scope(session_factory(database_url)) as session:
        recorded = record_answers(session, batch, now=clock.now(), max_age=timedelta(hours=1))
    assert recorded.recorded == 1


def caller_answers(
    api: TestClient, engine_db: str, topology: Topology, state: str
) -> tuple[str, str]:
    """A lone caller reports, their meter is asked and answers `state`: (ticket, meter)."""
    account, meter = lone_caller(topology)
    ticket = report(api, account)
    cycle(engine_db)
    answer(engine_db, next(p for p in pings(engine_db) if p.meter_id == meter), state)
    return ticket, meter


def lone_caller(topology: Topology) -> tuple[str, str]:
    """A customer on a fuse of many, and their meter (the sample grid's `M-<load>`)."""
    _, accounts = _fuse_with_customers(topology, 20)
    return accounts[0], f"M-{accounts[0]}"


def test_a_lone_caller_s_meter_is_asked_before_any_incident_opens(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    account, meter = lone_caller(topology)
    report(api, account)
    assert cycle(engine_db).opened == 0
    first = pings(engine_db)[0]
    assert (first.meter_id, first.reason, first.incident_id) == (
        meter,
        PingReason.SINGLE_CALL,
        None,
    )
    assert incidents(engine_db) == []


def test_a_lone_caller_s_meter_on_opens_nothing(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    caller_answers(api, engine_db, topology, "on")
    cycle(engine_db)
    assert incidents(engine_db) == []


def test_a_lone_caller_s_meter_on_closes_their_report_as_inside_the_premise(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    ticket, _ = caller_answers(api, engine_db, topology, "on")
    cycle(engine_db)
    status = api.get(f"/api/v1/reports/{ticket}").json()
    assert (status["status"], status["phase"]) == ("closed", "inside_premise")


def test_a_lone_caller_s_meter_off_with_neighbours_on_opens_their_service_outage(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    _, meter = caller_answers(api, engine_db, topology, "off")
    assert cycle(engine_db).opened == 0  # its neighbours are asked first
    neighbours = [p for p in pings(engine_db) if p.meter_id != meter]
    assert neighbours
    for ping in neighbours:
        answer(engine_db, ping, "on")
    cycle(engine_db)
    (incident,) = incidents(engine_db)
    assert incident.customers_affected == 1


def test_a_lone_caller_s_meter_off_with_a_neighbour_off_opens_their_fuse(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    _, accounts = _fuse_with_customers(topology, 20)
    caller_answers(api, engine_db, topology, "off")
    cycle(engine_db)
    for ping in pings(engine_db):
        if ping.state is PingState.PENDING:
            on_fuse = ping.meter_id.removeprefix("M-") in accounts
            answer(engine_db, ping, "off" if on_fuse else "on")
    cycle(engine_db)
    (incident,) = incidents(engine_db)
    assert incident.customers_affected == len(accounts)


def test_a_meter_that_gave_no_answer_is_not_asked_again(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    _, meter = caller_answers(api, engine_db, topology, "no_answer")
    cycle(engine_db)
    assert [p.meter_id for p in pings(engine_db)].count(meter) == 1


def test_a_lone_call_waits_no_longer_than_the_hold(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    account, _ = lone_caller(topology)
    report(api, account)
    cycle(engine_db, Pinging(PINGING.limits, PINGING.policy, hold=timedelta(0)))
    assert len(incidents(engine_db)) == 1


def test_without_a_head_end_a_lone_call_opens_at_once(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    account, _ = lone_caller(topology)
    report(api, account)
    assert cycle(engine_db, None).opened == 1 and pings(engine_db) == []


def answer_truly(database_url: str, out: list[str]) -> None:
    """Answer every pending ping as the meters would: off where the customer is out."""
    for ping in pings(database_url):
        if ping.state is PingState.PENDING:
            answer(database_url, ping, "off" if ping.meter_id.removeprefix("M-") in out else "on")


def test_an_outage_in_doubt_opens_once_its_meters_answered(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    _, accounts = _fuse_with_customers(topology, 20)
    for account in accounts[:2]:
        report(api, account)
    assert cycle(engine_db).opened == 0
    answer_truly(engine_db, accounts)
    cycle(engine_db)
    (incident,) = incidents(engine_db)
    assert incident.customers_affected == len(accounts)


def test_the_pings_of_its_customers_asked_before_an_outage_opened_are_on_its_incident(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    _, accounts = _fuse_with_customers(topology, 20)
    for account in accounts[:2]:
        report(api, account)
    cycle(engine_db)
    answer_truly(engine_db, accounts)
    cycle(engine_db)
    (incident,) = incidents(engine_db)
    asked = pings(engine_db)
    own = [p for p in asked if p.meter_id.removeprefix("M-") in accounts]
    assert own and {p.incident_id for p in own} == {incident.id}
    assert len(asked) <= PINGING.policy.budget
