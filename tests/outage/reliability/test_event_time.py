"""SCADA and meter telemetry applied at its own time: live, late, reversed or batched, an
outage of F1's breaker (or FU-A, from its meters) gives the same incident and the same
IEEE 1366 figures."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from outage.app import create_app
from outage.auth.enums import Role, Scope
from outage.db import session_factory, session_scope
from outage.incidents.changes import merge_incidents, open_incident
from outage.outbox.models import NotificationEvent
from outage.prediction.engine import Engine
from tests.conftest import Credentials, issue_credentials, staff_client

from .conftest import F1_CUSTOMERS, grid_database

FU_A = ("A1", "A2", "A3", "A4")

WINDOW = timedelta(hours=4)
NOW = datetime.now(UTC).replace(microsecond=0)
OPENED = NOW - timedelta(minutes=150)
CLOSED = NOW - timedelta(minutes=80)

ORDERS = {
    "live": ["open", "cycle at the event", "close", "cycle at the event"],
    "late": ["open", "cycle", "close", "cycle"],
    "reversed": ["close", "cycle", "open", "cycle"],
    "batch": ["open", "close", "cycle"],
}


class Site:
    """A database with the ten-customer grid, an admin's client, the SCADA and AMI keys."""

    def __init__(self, url: str, api: TestClient, credentials: Credentials) -> None:
        self.url, self.api, self.credentials = url, api, credentials

    def scada(self, state: str, at: datetime) -> None:
        response = self.api.post(
            "/api/v1/scada/events",
            json={"asset_ref": "BR-1", "state": state, "occurred_at": at.isoformat()},
            headers=self.credentials.key(Scope.SCADA),
        )
        assert response.status_code == 200, response.text

    def meters(self, event: str, accounts: tuple[str, ...], at: datetime) -> None:
        events = [
            {"meter_id": f"M-{a}", "event": event, "occurred_at": at.isoformat()} for a in accounts
        ]
        response = self.api.post(
            "/api/v1/ami/events", json={"events": events}, headers=self.credentials.key(Scope.AMI)
        )
        assert response.status_code == 200, response.text

    def send(self, step: str, at: datetime, meters: tuple[str, ...] = ()) -> None:
        """BR-1's "open" or "close", or with `meters` their last gasps or power restored."""
        if meters:
            self.meters("last_gasp" if step == "open" else "power_restored", meters, at)
        else:
            self.scada("open" if step == "open" else "closed", at)

    def cycle(self, now: datetime | None = None) -> None:
        with session_scope(session_factory(self.url)) as session:
            Engine.load(session, window=WINDOW).run_cycle(session, now)

    def play(
        self, order: str, opened: datetime, closed: datetime, meters: tuple[str, ...] = ()
    ) -> None:
        """Send the pair in `order`, then run one more cycle: seeing them again is harmless.

        The pair is BR-1's open and close, or with `meters` their last gasps and power
        restored."""
        last: datetime | None = None
        for step in ORDERS[order]:
            if step in ("open", "close"):
                last = opened if step == "open" else closed
                self.send(step, last, meters)
            else:
                self.cycle(last + timedelta(seconds=30) if "event" in step and last else None)
        self.cycle()

    def incidents(self) -> list[dict]:  # type: ignore[type-arg]
        return self.api.get("/api/v1/incidents").json()

    def act(self, incident: int, action: str) -> None:
        """A dispatcher's action, through the API."""
        response = self.api.patch(
            f"/api/v1/incidents/{incident}", json={"action": action, "reason": "nothing found"}
        )
        assert response.status_code == 200, response.text

    def told(self) -> set[str]:
        """The kinds of notification events queued for any incident."""
        with session_scope(session_factory(self.url)) as session:
            return set(session.scalars(select(NotificationEvent.kind)))

    def figures(self) -> dict:  # type: ignore[type-arg]
        params = {"start": (NOW - timedelta(hours=6)).isoformat(), "end": NOW.isoformat()}
        response = self.api.get("/api/v1/reliability", params=params)
        assert response.status_code == 200, response.text
        return response.json()["with_major_events"]


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    with grid_database(database_url) as url:
        credentials = issue_credentials(url, roles=[Role.ADMIN], scopes=[Scope.SCADA, Scope.AMI])
        with staff_client(create_app(url), credentials) as api:
            yield Site(url, api, credentials)


@pytest.mark.parametrize("order", ORDERS)
def test_an_outage_starts_and_ends_at_its_scada_events_in_any_order(site: Site, order: str) -> None:
    site.play(order, OPENED, CLOSED)
    (incident,) = site.incidents()
    assert incident["device"]["asset_ref"] == "BR-1"
    assert incident["status"] == "restored"
    assert datetime.fromisoformat(incident["started_at"]) == OPENED
    assert datetime.fromisoformat(incident["restored_at"]) == CLOSED


@pytest.mark.parametrize("order", ORDERS)
def test_an_outage_counts_in_the_indices_in_any_order(site: Site, order: str) -> None:
    site.play(order, OPENED, CLOSED)
    figures = site.figures()
    assert figures["customer_interruptions"] == len(F1_CUSTOMERS)
    assert figures["customer_minutes"] == pytest.approx(70 * len(F1_CUSTOMERS))


@pytest.mark.parametrize("order", ORDERS)
def test_a_three_minute_pair_is_momentary_in_any_order(site: Site, order: str) -> None:
    site.play(order, OPENED, OPENED + timedelta(minutes=3))
    (incident,) = site.incidents()
    assert incident["momentary"] is True
    figures = site.figures()
    assert (figures["customer_interruptions"], figures["momentary_events"]) == (
        0,
        len(F1_CUSTOMERS),
    )


def test_two_trips_in_one_batch_are_two_outages(site: Site) -> None:
    second = CLOSED + timedelta(minutes=20)
    for state, at in [
        ("open", OPENED),
        ("closed", CLOSED),
        ("open", second),
        ("closed", second + timedelta(minutes=10)),
    ]:
        site.scada(state, at)
    site.cycle()
    site.cycle()
    spans = sorted(
        (datetime.fromisoformat(i["started_at"]), datetime.fromisoformat(i["restored_at"]))
        for i in site.incidents()
    )
    assert spans == [(OPENED, CLOSED), (second, second + timedelta(minutes=10))]


def test_a_device_still_open_starts_its_incident_at_the_trip(site: Site) -> None:
    site.scada("open", OPENED)
    site.cycle()
    (incident,) = site.incidents()
    assert incident["status"] == "predicted"
    assert datetime.fromisoformat(incident["started_at"]) == OPENED


@pytest.mark.parametrize("order", ORDERS)
def test_an_outage_starts_and_ends_at_its_meter_events_in_any_order(site: Site, order: str) -> None:
    site.play(order, OPENED, CLOSED, meters=FU_A)
    (incident,) = site.incidents()
    assert incident["device"]["asset_ref"] == "FU-A"
    assert incident["status"] == "restored"
    assert datetime.fromisoformat(incident["started_at"]) == OPENED
    assert datetime.fromisoformat(incident["restored_at"]) == CLOSED


@pytest.mark.parametrize("order", ORDERS)
def test_a_meter_outage_counts_in_the_indices_in_any_order(site: Site, order: str) -> None:
    site.play(order, OPENED, CLOSED, meters=FU_A)
    figures = site.figures()
    assert figures["customer_interruptions"] == len(FU_A)
    assert figures["customer_minutes"] == pytest.approx(70 * len(FU_A))


@pytest.mark.parametrize("order", ORDERS)
def test_a_three_minute_meter_pair_is_momentary_in_any_order(site: Site, order: str) -> None:
    site.play(order, OPENED, OPENED + timedelta(minutes=3), meters=FU_A)
    assert all(incident["momentary"] for incident in site.incidents())
    figures = site.figures()
    assert (figures["customer_interruptions"], figures["momentary_events"]) == (0, len(FU_A))


@pytest.mark.parametrize("order", ["reversed", "batch"])
def test_a_momentary_meter_pair_seen_whole_opens_no_incident(site: Site, order: str) -> None:
    site.play(order, OPENED, OPENED + timedelta(minutes=3), meters=FU_A)
    assert site.incidents() == []


@pytest.mark.parametrize("order", ["live", "late"])
def test_a_gasp_seen_alone_back_within_five_minutes_closes_its_incident_as_momentary(
    site: Site, order: str
) -> None:
    site.play(order, OPENED, OPENED + timedelta(minutes=3), meters=FU_A)
    (incident,) = site.incidents()
    assert (incident["status"], incident["momentary"]) == ("restored", True)


def test_a_restore_before_its_gasp_in_one_batch_is_momentary(site: Site) -> None:
    events = [
        {"meter_id": f"M-{a}", "event": event, "occurred_at": at.isoformat()}
        for event, at in [("power_restored", OPENED + timedelta(minutes=2)), ("last_gasp", OPENED)]
        for a in FU_A
    ]
    response = site.api.post(
        "/api/v1/ami/events", json={"events": events}, headers=site.credentials.key(Scope.AMI)
    )
    assert response.json()["accepted"] == len(events)
    site.cycle()
    assert site.incidents() == []
    assert site.figures()["momentary_events"] == len(FU_A)


@pytest.mark.parametrize("order", ORDERS)
def test_a_six_minute_meter_pair_is_a_sustained_outage(site: Site, order: str) -> None:
    site.play(order, OPENED, OPENED + timedelta(minutes=6), meters=FU_A)
    (incident,) = site.incidents()
    assert incident["momentary"] is False
    figures = site.figures()
    assert (figures["customer_interruptions"], figures["momentary_events"]) == (len(FU_A), 0)


def test_blinks_within_five_minutes_of_the_first_are_one_momentary_event(site: Site) -> None:
    for blink in range(3):
        gasp = OPENED + timedelta(minutes=2 * blink)
        site.meters("last_gasp", FU_A, gasp)
        site.meters("power_restored", FU_A, gasp + timedelta(seconds=30))
    site.cycle()
    assert site.incidents() == []
    assert site.figures()["momentary_events"] == len(FU_A)


@pytest.mark.parametrize("order", ["reversed", "batch"])
def test_one_customers_past_meter_pair_is_a_single_service_outage(site: Site, order: str) -> None:
    site.play(order, OPENED, CLOSED, meters=("C1",))
    (incident,) = site.incidents()
    assert incident["device"] is None
    assert incident["customers_affected"] == 1
    assert datetime.fromisoformat(incident["restored_at"]) == CLOSED


def test_a_repeated_last_gasp_keeps_the_first(site: Site) -> None:
    site.meters("last_gasp", FU_A, OPENED)
    site.meters("last_gasp", FU_A, OPENED + timedelta(minutes=5))
    site.cycle()
    (incident,) = site.incidents()
    assert datetime.fromisoformat(incident["started_at"]) == OPENED


AFTER_RESTORATION = {"restored"}


@pytest.mark.parametrize("meters", [(), FU_A], ids=["scada", "meters"])
def test_an_outage_recorded_after_it_ended_tells_customers_nothing(
    site: Site, meters: tuple[str, ...]
) -> None:
    site.play("batch", OPENED, CLOSED, meters=meters)
    (incident,) = site.incidents()
    assert incident["status"] == "restored"
    assert not site.told() & AFTER_RESTORATION


def test_a_live_outage_restored_by_its_close_tells_customers(site: Site) -> None:
    site.play("live", OPENED, CLOSED)
    assert site.told() >= AFTER_RESTORATION


@pytest.mark.parametrize("meters", [(), FU_A], ids=["scada", "meters"])
def test_an_outage_a_dispatcher_cancelled_is_not_recorded_when_it_ends(
    site: Site, meters: tuple[str, ...]
) -> None:
    site.send("open", OPENED, meters)
    site.cycle()
    (incident,) = site.incidents()
    site.act(incident["id"], "cancel")
    site.send("close", CLOSED, meters)
    site.cycle()
    assert [(i["id"], i["status"]) for i in site.incidents()] == [(incident["id"], "cancelled")]


def test_a_trip_merged_into_another_incident_is_not_recorded_when_it_closes(site: Site) -> None:
    site.scada("open", OPENED)
    site.cycle()
    (trip,) = site.incidents()
    with session_scope(session_factory(site.url)) as session:
        keep = open_incident(
            session,
            account="C1",
            confidence=1.0,
            customers_affected=1,
            started_at=OPENED,
            reason="a call",
        )
        merge_incidents(session, keep, trip["id"], reason="the same outage")
    site.scada("closed", CLOSED)
    site.cycle()
    on_breaker = [i for i in site.incidents() if i["device"] and i["device"]["asset_ref"] == "BR-1"]
    assert [(i["id"], i["status"]) for i in on_breaker] == [(trip["id"], "cancelled")]


LATE_OPENED = NOW - timedelta(hours=6)
LATE_CLOSED = LATE_OPENED + timedelta(minutes=70)


@pytest.mark.parametrize("meters", [(), FU_A], ids=["scada", "meters"])
def test_a_pair_older_than_the_window_posted_now_is_recorded_at_its_times(
    site: Site, meters: tuple[str, ...]
) -> None:
    site.play("batch", LATE_OPENED, LATE_CLOSED, meters=meters)
    (incident,) = site.incidents()
    assert datetime.fromisoformat(incident["started_at"]) == LATE_OPENED
    assert datetime.fromisoformat(incident["restored_at"]) == LATE_CLOSED


@pytest.mark.parametrize("meters", [(), FU_A], ids=["scada", "meters"])
def test_a_pair_older_than_the_window_posted_now_counts_in_the_indices(
    site: Site, meters: tuple[str, ...]
) -> None:
    site.play("batch", LATE_OPENED, LATE_CLOSED, meters=meters)
    customers = len(meters or F1_CUSTOMERS)
    figures = site.figures()
    assert figures["customer_interruptions"] == customers
    assert figures["customer_minutes"] == pytest.approx(70 * customers)
