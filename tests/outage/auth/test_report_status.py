"""A report's status over the API: the reporter proves it is theirs with the last four
digits of their phone; staff who work the queue need not; guessing is limited."""

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.errors import RateLimited
from outage.intake.limits import IntakeLimits
from outage.intake.models import TicketGuess
from outage.intake.owners import Verdict, forget_guesses, guesser, verify_owner
from outage.settings import Settings
from tests.conftest import Credentials

Customer = Callable[[], Any]


def _customer(auth_database: str, offset: int) -> Any:
    with session_scope(session_factory(auth_database)) as session:
        return session.execute(
            text(
                "SELECT account, phone FROM customers WHERE phone IS NOT NULL"
                " ORDER BY id OFFSET :offset LIMIT 1"
            ),
            {"offset": offset},
        ).one()


def _report(client: TestClient, **body: Any) -> str:
    answer = client.post("/api/v1/reports", json=body)
    assert answer.status_code == 201, answer.text
    ticket: str = answer.json()["ticket"]
    return ticket


def test_reporter_sees_the_status_with_their_phone_digits(
    anyone: TestClient, auth_database: str
) -> None:
    customer = _customer(auth_database, 101)
    ticket = _report(anyone, account=customer.account)
    url = f"/api/v1/reports/{ticket}"
    # The phone registered to the account unlocks it, though the report gave none.
    good = anyone.get(url, params={"phone_last4": customer.phone[-4:]})
    assert good.status_code == 200, good.text
    assert good.json()["ticket"] == ticket
    assert anyone.get(url.lower(), params={"phone_last4": customer.phone[-4:]}).status_code == 200
    missing = anyone.get(url)
    assert missing.status_code == 403
    assert "phone_last4" in missing.json()["detail"]
    wrong = "0000" if customer.phone[-4:] != "0000" else "1111"
    assert anyone.get(url, params={"phone_last4": wrong}).status_code == 403
    assert anyone.get(url, params={"phone_last4": "12"}).status_code == 422


def test_the_phone_given_with_the_report_unlocks_it(anyone: TestClient) -> None:
    ticket = _report(anyone, phone="0912 345 678", address="an address nobody has, ward 99")
    answer = anyone.get(f"/api/v1/reports/{ticket}", params={"phone_last4": "5678"})
    assert answer.status_code == 200


def test_a_report_without_a_phone_points_to_its_page(anyone: TestClient) -> None:
    ticket = _report(anyone, address="no phone here, hamlet 12")
    answer = anyone.get(f"/api/v1/reports/{ticket}", params={"phone_last4": "1234"})
    assert answer.status_code == 403
    assert f"/status/{ticket}" in answer.json()["detail"]
    assert anyone.get(f"/status/{ticket}").status_code == 200, "the page still works"


def test_unknown_ticket_is_404_for_everyone(
    anyone: TestClient, auth_credentials: Credentials
) -> None:
    assert anyone.get("/api/v1/reports/000000-XXXXX").status_code == 404
    staff = auth_credentials.staff(Role.AGENT)
    assert anyone.get("/api/v1/reports/000000-XXXXX", headers=staff).status_code == 404


def test_queue_staff_need_no_digits_and_crews_do(
    anyone: TestClient, auth_database: str, auth_credentials: Credentials
) -> None:
    customer = _customer(auth_database, 202)
    ticket = _report(anyone, account=customer.account)
    for role in (Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN):
        answer = anyone.get(f"/api/v1/reports/{ticket}", headers=auth_credentials.staff(role))
        assert answer.status_code == 200, role
    crew = anyone.get(f"/api/v1/reports/{ticket}", headers=auth_credentials.staff(Role.CREW))
    assert crew.status_code == 403


def test_guessing_the_digits_is_stopped(auth_database: str, auth_credentials: Credentials) -> None:
    customer = _customer(auth_database, 303)
    app: FastAPI = create_app(auth_database, Settings(status_check_limit="3/hour"))
    with TestClient(app) as client:
        ticket = _report(client, account=customer.account)
        url = f"/api/v1/reports/{ticket}"
        wrong = [f"{n:04d}" for n in range(20) if f"{n:04d}" != customer.phone[-4:]][:3]
        for guess in wrong:
            assert client.get(url, params={"phone_last4": guess}).status_code == 403
        stopped = client.get(url, params={"phone_last4": customer.phone[-4:]})
        assert stopped.status_code == 429
        assert int(stopped.headers["retry-after"]) > 0
        staff = client.get(url, headers=auth_credentials.staff(Role.AGENT))
        assert staff.status_code == 200, "staff are not limited"


def _wrong_guesses(customer: Any, n: int) -> list[str]:
    return [f"{g:04d}" for g in range(20) if f"{g:04d}" != customer.phone[-4:]][:n]


def test_a_strangers_wrong_guesses_leave_the_customers_right_answer_working(
    auth_database: str,
) -> None:
    customer = _customer(auth_database, 304)
    app: FastAPI = create_app(auth_database, Settings(status_check_limit="3/hour"))
    with (
        TestClient(app, client=("203.0.113.7", 40000)) as stranger,
        TestClient(app, client=("198.51.100.20", 40000)) as owner,
    ):
        ticket = _report(owner, account=customer.account)
        url = f"/api/v1/reports/{ticket}"
        for guess in _wrong_guesses(customer, 3):
            stranger.get(url, params={"phone_last4": guess})
        assert stranger.get(url, params={"phone_last4": "0000"}).status_code == 429
        right = owner.get(url, params={"phone_last4": customer.phone[-4:]})
        assert right.status_code == 200


def test_wrong_guesses_are_counted_across_processes(auth_database: str) -> None:
    customer = _customer(auth_database, 305)
    settings = Settings(status_check_limit="3/hour")
    first, second = create_app(auth_database, settings), create_app(auth_database, settings)
    with TestClient(first) as one, TestClient(second) as other:
        ticket = _report(one, account=customer.account)
        url = f"/api/v1/reports/{ticket}"
        for guess in _wrong_guesses(customer, 3):
            assert one.get(url, params={"phone_last4": guess}).status_code == 403
        assert other.get(url, params={"phone_last4": customer.phone[-4:]}).status_code == 429


def test_reporter_of_a_duplicate_is_not_told_the_ticket_it_joins(
    anyone: TestClient, auth_database: str
) -> None:
    customer = _customer(auth_database, 306)
    first = _report(anyone, account=customer.account)
    second = _report(anyone, phone=customer.phone)
    answer = anyone.get(f"/api/v1/reports/{second}", params={"phone_last4": customer.phone[-4:]})
    assert answer.json()["status"] == "duplicate"
    assert answer.json()["duplicate_of"] is None
    assert first not in answer.text


def test_parallel_wrong_guesses_get_at_most_the_allowed_checks(auth_database: str) -> None:
    limits = IntakeLimits.from_strings("1000/second", "1000/second", "3/hour")
    sessions = session_factory(auth_database)
    ticket = f"{uuid.uuid4().hex[:6]}-PARAL"

    def guess(_: int) -> str:
        with sessions() as session:
            try:
                verdict = verify_owner(
                    session, limits, ticket, "0000", lambda s, t: ["+84912345678"], client="x"
                )
            except RateLimited:
                return "limited"
            return verdict.value

    with ThreadPoolExecutor(20) as pool:
        outcomes = Counter(pool.map(guess, range(20)))
    assert outcomes == {Verdict.MISMATCH.value: 3, "limited": 17}


def test_an_ipv6_caller_is_counted_by_its_64_network(auth_database: str) -> None:
    customer = _customer(auth_database, 307)
    app: FastAPI = create_app(auth_database, Settings(status_check_limit="3/hour"))
    with (
        TestClient(app, client=("2001:db8:7:1::a", 40000)) as first,
        TestClient(app, client=("2001:db8:7:1:ffff::b", 40000)) as neighbour,
        TestClient(app, client=("2001:db8:7:2::a", 40000)) as elsewhere,
    ):
        ticket = _report(elsewhere, account=customer.account)
        url = f"/api/v1/reports/{ticket}"
        for guess in _wrong_guesses(customer, 3):
            assert first.get(url, params={"phone_last4": guess}).status_code == 403
        right = {"phone_last4": customer.phone[-4:]}
        assert neighbour.get(url, params=right).status_code == 429, "a fresh address of the /64"
        assert elsewhere.get(url, params=right).status_code == 200, "another /64"


@pytest.mark.parametrize(
    ("client", "counted_as"),
    [
        ("2001:db8:7:1::a", "2001:db8:7:1::/64"),
        ("2001:DB8:7:1:ffff:ffff:ffff:ffff", "2001:db8:7:1::/64"),
        ("203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_guesses_are_counted_per_ipv4_address_and_ipv6_64(
    client: str | None, counted_as: str
) -> None:
    assert guesser(client) == counted_as


def test_a_guess_needs_no_second_connection_and_its_count_stands(auth_database: str) -> None:
    limits = IntakeLimits.from_strings("1000/second", "1000/second", "2/hour")
    ticket = f"{uuid.uuid4().hex[:6]}-SOLO1"

    def phones(session: Session, ticket: str) -> list[str]:
        return ["+84912345678"]

    def counted(session: Session) -> int | None:
        return session.scalar(select(TicketGuess.wrong).where(TicketGuess.ticket == ticket))

    # The request's session holds the pool's only connection, as under a burst of guesses.
    engine = create_engine(auth_database, pool_size=1, max_overflow=0, pool_timeout=1)
    try:
        with Session(engine) as session:
            assert verify_owner(session, limits, ticket, "0000", phones, client="z") is (
                Verdict.MISMATCH
            )
            assert verify_owner(session, limits, ticket, "5678", phones, client="z") is (
                Verdict.PROVEN
            )
            session.commit()  # the request's answer: the right guess is taken back
            assert counted(session) == 1
            for guess in ("1111", "2222"):
                try:
                    verify_owner(session, limits, ticket, guess, phones, client="z")
                except RateLimited:
                    break
            else:
                pytest.fail("the third wrong guess was not refused")
        # The refusal ended the request without a commit: its counts stand all the same.
        with Session(engine) as session:
            assert counted(session) == 3
    finally:
        engine.dispose()


def test_old_guess_counts_are_forgotten(auth_database: str) -> None:
    limits = IntakeLimits.from_strings("1000/second", "1000/second", "3/hour")
    sessions = session_factory(auth_database)
    ticket = f"{uuid.uuid4().hex[:6]}-FORGT"
    with sessions() as session:
        verify_owner(session, limits, ticket, "0000", lambda s, t: ["+84912345678"], client="y")
    with session_scope(sessions) as session:
        assert forget_guesses(session, before=datetime.now(UTC) - timedelta(hours=1)) == 0
        assert forget_guesses(session, before=datetime.now(UTC) + timedelta(seconds=1)) >= 1
        left = session.scalar(select(func.count()).where(TicketGuess.ticket == ticket))
    assert left == 0
