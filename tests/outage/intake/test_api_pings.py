"""The meter pings' routes: staff ask meters through the API, the head-end's answers come
back through it, and staff read them there."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.intake.headend import configured_headend
from outage.intake.pings import send_pending
from outage.settings import Settings, get_settings
from outage.simulation.headend import SimulatedHeadEnd
from tests.conftest import issue_credentials, staff_client

PINGS = "/api/v1/ami/pings"


class Answers:
    """Collects the head-end's answers, and says when `expected` have come."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self.expected = 0
        self.all_in = threading.Event()

    def __call__(self, batch: list[dict[str, str]]) -> None:
        self.items.extend(batch)
        if len(self.items) >= self.expected:
            self.all_in.set()


@pytest.fixture(scope="module")
def off_meters() -> set[str]:
    """The meters the simulated head-end finds off."""
    return set()


@pytest.fixture(scope="module")
def answers() -> Answers:
    return Answers()


@pytest.fixture(scope="module")
def field(answers: Answers, off_meters: set[str]) -> Iterator[SimulatedHeadEnd]:
    """The head-end on a loopback port, answering within a tenth of a second."""
    with SimulatedHeadEnd(answers, off_meters.__contains__, latency_s=(0.0, 0.1), loss=0.0) as f:
        yield f


@pytest.fixture(scope="module")
def settings(field: SimulatedHeadEnd) -> Settings:
    return get_settings().model_copy(update={"ami_headend_url": field.url})


def _dispatcher(database: str, settings: Settings) -> TestClient:
    credentials = issue_credentials(database, roles=[Role.DISPATCHER])
    return staff_client(create_app(database, settings), credentials, Role.DISPATCHER)


@pytest.fixture(scope="module")
def dispatcher(ami_database: str, settings: Settings) -> Iterator[TestClient]:
    with _dispatcher(ami_database, settings) as client:
        yield client


def test_meters_asked_through_the_api_are_answered_through_it(
    dispatcher: TestClient,
    head_end: TestClient,
    ami_database: str,
    settings: Settings,
    meters: Iterator[str],
    answers: Answers,
    off_meters: set[str],
) -> None:
    off, on = next(meters), next(meters)
    off_meters.add(off)
    answers.expected = len(answers.items) + 2
    answers.all_in.clear()
    asked = dispatcher.post(PINGS, json={"meter_ids": [off, on, "M-nope"]})
    assert asked.status_code == 202
    batch = asked.json()
    assert (batch["asked"], batch["unknown"]) == ([off, on], ["M-nope"])
    headend = configured_headend(settings)
    assert headend is not None
    with session_scope(session_factory(ami_database)) as session:
        send_pending(session, headend, now=datetime.now(UTC))
    assert answers.all_in.wait(timeout=30)
    head_end.post(f"{PINGS}/answers", json={"answers": answers.items})
    read = dispatcher.get(PINGS, params={"request_id": batch["request_ids"][0]}).json()
    assert {p["meter_id"]: p["state"] for p in read} == {off: "off", on: "on"}


def test_pings_for_an_unknown_incident_are_refused(
    dispatcher: TestClient, meters: Iterator[str]
) -> None:
    response = dispatcher.post(PINGS, json={"meter_ids": [next(meters)], "incident_id": 999999})
    assert response.status_code == 404


def test_without_a_headend_meters_cannot_be_asked(ami_database: str, meters: Iterator[str]) -> None:
    with _dispatcher(ami_database, get_settings()) as client:
        response = client.post(PINGS, json={"meter_ids": [next(meters)]})
    assert response.status_code == 409
    assert "OUTAGE_AMI_HEADEND_URL" in response.json()["detail"]


def test_reading_pings_needs_a_request_or_an_incident(dispatcher: TestClient) -> None:
    assert dispatcher.get(PINGS).status_code == 422
