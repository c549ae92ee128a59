"""No personal data in any public answer, after several customers reported on every channel.

Public: the report status (API, with the reporter's own phone digits, and the page),
Open311 GET (JSON and XML), and the pages anyone may open. None may show a customer's
name, phone, e-mail, account, address, premise or the premise's exact location.
"""

import html
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from outage.auth.enums import Role, Scope
from outage.db import session_factory, session_scope
from tests.conftest import Credentials


@dataclass(frozen=True)
class Person:
    name: str
    account: str
    phone: str
    email: str
    address: str
    premise: str
    lat: float
    lon: float

    def traces(self) -> list[str]:
        """Every way their data could show: forms of the phone, the street, the place."""
        national = "0" + self.phone.removeprefix("+84")
        return [
            self.name,
            self.account,
            self.phone,
            national,
            self.phone.removeprefix("+84"),
            f"{national[:4]} {national[4:7]} {national[7:]}",
            self.email,
            self.email.split("@")[0],
            self.address,
            self.address.split(",")[0],
            self.premise,
            f"{self.lat:.4f}",
            f"{self.lon:.4f}",
        ]


@pytest.fixture(scope="module")
def people(auth_database: str) -> list[Person]:
    with session_scope(session_factory(auth_database)) as session:
        rows = session.execute(
            text(
                "SELECT c.name, c.account, c.phone, c.email, p.address, p.ref AS premise,"
                " ST_Y(p.geom) AS lat, ST_X(p.geom) AS lon"
                " FROM customers c JOIN premises p ON p.id = c.premise_id"
                " WHERE c.phone IS NOT NULL AND c.email IS NOT NULL"
                " ORDER BY c.id OFFSET 400 LIMIT 5"
            )
        ).all()
    assert len(rows) == 5
    return [Person(**row._mapping) for row in rows]


@pytest.fixture(scope="module")
def tickets(
    auth_app: Any, auth_credentials: Credentials, people: list[Person]
) -> Iterator[dict[str, Person]]:
    """Each person reports on another channel; the tickets, with who made them."""
    api, web, open311, sms, agent = people
    made: dict[str, Person] = {}
    with TestClient(auth_app) as client:
        receipt = client.post(
            "/api/v1/reports",
            json={
                "account": api.account,
                "phone": api.phone,
                "email": api.email,
                "description": f"{api.name} here, no power since noon",
            },
        )
        made[receipt.json()["ticket"]] = api

        form = client.get("/report")
        token = re.search(r'name="token" value="([^"]+)"', form.text)
        assert token is not None
        page = client.post(
            "/report",
            data={
                "phone": web.phone,
                "address": web.address,
                "description": f"call {web.name} at {web.email}",
                "token": token.group(1),
            },
            follow_redirects=False,
        )
        assert page.status_code == 303, page.text
        made[page.headers["location"].split("/status/")[1].split("?")[0]] = web

        posted = client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": auth_credentials.keys[Scope.OPEN311],
                "service_code": "outage",
                "lat": f"{open311.lat:.6f}",
                "long": f"{open311.lon:.6f}",
                "address_string": open311.address,
                "first_name": open311.name,
                "phone": open311.phone,
                "email": open311.email,
                "description": f"{open311.name}, {open311.account}",
            },
        )
        assert posted.status_code == 201, posted.text
        made[posted.json()[0]["service_request_id"]] = open311

        texted = client.post(
            "/api/v1/channels/sms",
            json={"from": sms.phone, "text": f"MATDIEN {sms.account} {sms.name}"},
            headers=auth_credentials.key(Scope.CHANNELS),
        )
        assert texted.json()["ticket"], texted.text
        made[texted.json()["ticket"]] = sms

        logged = client.post(
            "/agent/reports",
            data={
                "account": agent.account,
                "description": f"{agent.name} says the meter is dark",
                "token": str(uuid.uuid4()),
            },
            headers=auth_credentials.staff(Role.AGENT),
            follow_redirects=False,
        )
        assert logged.status_code == 303, logged.text
        ticket = re.search(r"ticket=([^&]+)", logged.headers["location"])
        assert ticket is not None
        made[ticket.group(1)] = agent
    yield made


def _readable(body: str, content_type: str) -> str:
    """The answer as a person reads it: JSON and entities decoded."""
    if "json" in content_type:
        return json.dumps(json.loads(body), ensure_ascii=False)
    return html.unescape(body)


def test_no_public_answer_shows_anyones_personal_data(
    anyone: TestClient, people: list[Person], tickets: dict[str, Person]
) -> None:
    assert len(tickets) == len(people)
    requests: list[tuple[str, dict[str, str]]] = [
        ("/open311/v2/requests.json", {}),
        ("/open311/v2/requests.xml", {}),
        ("/open311/v2/requests.json", {"service_request_id": ",".join(tickets)}),
        ("/open311/v2/requests.xml", {"service_code": "outage"}),
        ("/open311/v2/services.json", {}),
        ("/open311/v2/discovery.xml", {}),
        ("/report", {}),
        ("/status", {}),
        ("/health", {}),
        ("/transparency", {}),
        ("/transparency", {"lang": "en"}),
        ("/api/v1/transparency/figures", {}),
        ("/api/v1/transparency/figures.csv", {}),
        ("/api/v1/transparency/figures.csv", {"table": "care"}),
    ]
    for ticket, reporter in tickets.items():
        requests += [
            (f"/api/v1/reports/{ticket}", {"phone_last4": reporter.phone[-4:]}),
            (f"/status/{ticket}", {}),
            (f"/status/{ticket}", {"lang": "en"}),
            (f"/open311/v2/requests/{ticket}.json", {}),
            (f"/open311/v2/requests/{ticket}.xml", {}),
        ]
    traces = [(person.name, trace) for person in people for trace in person.traces()]
    shown_tickets = set()
    for path, params in requests:
        answer = anyone.get(path, params=params)
        assert answer.status_code in (200, 404), f"{path}: {answer.status_code} {answer.text}"
        body = _readable(answer.text, answer.headers["content-type"])
        for who, trace in traces:
            assert trace.lower() not in body.lower(), f"{path} shows {who}'s {trace!r}"
        shown_tickets |= {t for t in tickets if t in body}
    assert shown_tickets == set(tickets), "the answers were about these reports"
