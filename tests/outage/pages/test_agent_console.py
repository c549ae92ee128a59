"""The call-centre agent console over HTTP on the sample grid: /agent, finding the caller,
logging a call, filing a request, and the caller's surroundings."""

import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from grid_topology.model import GridModel, Premise
from outage.agent.service import find_customers
from outage.care.enums import RequestType
from outage.care.models import ServiceRequest
from outage.db import session_factory, session_scope
from outage.grid import models as grid
from outage.i18n import strings
from outage.incidents.changes import open_incident, restore, set_etr
from outage.intake.enums import Channel, Hazard, MatchMethod, ReportOutcome, ReportStatus
from outage.intake.models import Report

from .conftest import stored_report, unique_description

LOOKUP_BAND = slice(1060, 1080)
"""Customers the tests only look up (the browser test takes 1080-1100)."""

TICKET = re.compile(r"^\d{6}-[2-9A-HJ-NP-Z]{5}$")
XSS = "<img src=x onerror=alert(1)>"


def _unaccented(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _national(e164: str) -> str:
    """'+84912345678' as a caller reads it: '0912 345 678'."""
    digits = "0" + e164.removeprefix("+84")
    return f"{digits[:4]} {digits[4:7]} {digits[7:]}"


def _reports(database_url: str, description: str) -> list[Report]:
    with session_factory(database_url)() as session:
        return list(session.scalars(select(Report).where(Report.description == description)))


def _log_form(html: str, account: str) -> dict[str, str]:
    """The hidden fields of the log-call form for one customer of the results."""
    for form in re.findall(r'<form method="post" action="/agent/reports".*?</form>', html, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
        if fields.get("account") == account:
            return fields
    raise AssertionError(f"no log-call form for {account}")


def _search(client: TestClient, query: str, language: str = "vi") -> str:
    response = client.get("/agent", params={"q": query, "lang": language})
    assert response.status_code == 200, response.text
    return response.text


def _log(
    client: TestClient, account: str, language: str = "vi", **fields: str
) -> tuple[int, str, str]:
    form = _log_form(_search(client, account, language), account)
    response = client.post("/agent/reports", data={**form, **fields}, follow_redirects=False)
    return response.status_code, response.headers.get("location", ""), response.text


def _ticket_of(location: str) -> str:
    query = parse_qs(urlsplit(location).query)
    [ticket] = query["ticket"]
    assert TICKET.match(ticket)
    return ticket


class _Text(HTMLParser):
    """The visible text nodes of a page's <body>."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_body |= tag == "body"

    def handle_data(self, data: str) -> None:
        if self._in_body and data.strip():
            self.texts.append(" ".join(data.split()))


# --- the page itself ---------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_word_of_the_empty_console_comes_from_the_dictionary(
    client: TestClient, language: str
) -> None:
    other = "en" if language == "vi" else "vi"
    parser = _Text()
    parser.feed(client.get("/agent", params={"lang": language}).text)
    allowed = set(strings(language).values()) | {strings(other)["language_name"]}
    stray = [text for text in parser.texts if text not in allowed]
    assert not stray, f"text not from the pages catalogue: {stray}"


def test_the_language_switch_keeps_the_search(client: TestClient) -> None:
    html = _search(client, "12 ly thuong kiet", "en")
    assert '<html lang="en">' in html
    assert 'href="/agent?q=12+ly+thuong+kiet&amp;lang=vi"' in html


# --- finding the caller ------------------------------------------------------------------


def test_finds_the_caller_by_a_nationally_written_phone(
    client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    premise = sample_grid.premises[LOOKUP_BAND][0]
    customer = premise.customer
    assert customer is not None
    typed = _national(customer.phone)
    html = _search(client, typed, "en")
    with session_factory(grid_database)() as session:
        [expected] = find_customers(session, query=customer.phone)
    assert (
        strings("en")["agent_results"].format(count=1, method=strings("en")["agent_by_phone"])
        in html
    )
    for shown in (
        customer.name,
        customer.account,
        typed,
        premise.address,
        premise.ref,
        expected.premise.transformer,
        expected.premise.feeder,
        strings(customer.language)["language_name"],
    ):
        assert shown and shown in html, shown
    assert f'href="tel:{customer.phone}"' in html
    assert _log_form(html, customer.account)["q"] == typed


def test_finds_the_caller_by_account(client: TestClient, sample_grid: GridModel) -> None:
    premise = sample_grid.premises[LOOKUP_BAND][1]
    assert premise.customer is not None
    html = _search(client, f"  {premise.customer.account} ")
    assert (
        strings("vi")["agent_results"].format(count=1, method=strings("vi")["agent_by_account"])
        in html
    )
    assert premise.customer.name in html and premise.address in html


def test_finds_the_caller_by_an_unaccented_address(
    client: TestClient, sample_grid: GridModel
) -> None:
    premise = sample_grid.premises[LOOKUP_BAND][2]
    assert premise.customer is not None
    typed = _unaccented(premise.address).lower()
    assert typed != premise.address.lower()
    html = _search(client, typed)
    first = re.search(r'<dd class="account">([^<]*)</dd>', html)
    assert first and first.group(1) == premise.customer.account, "the house itself comes first"
    assert f"(theo {strings('vi')['agent_by_address']})." in html


def test_critical_customers_stand_out(client: TestClient, sample_grid: GridModel) -> None:
    critical = next(
        p for p in sample_grid.premises[1000:1101] if p.customer and p.customer.critical
    )
    assert critical.customer is not None and critical.customer.critical
    html = _search(client, critical.customer.account, "en")
    assert 'class="card customer critical"' in html
    reason = strings("en")[f"critical.{critical.customer.critical}"]
    assert strings("en")["agent_critical_badge"].format(reason=reason) in html


def test_nothing_found_is_said_and_the_search_is_escaped(client: TestClient) -> None:
    typed = '"><script>alert(1)</script>'
    html = _search(client, typed, "en")
    assert "<script>alert(1)" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    escaped = "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert strings("en")["agent_no_results"].format(query=escaped) in html


def test_an_over_long_search_is_refused_in_place(client: TestClient) -> None:
    response = client.get("/agent", params={"q": "x" * 301, "lang": "en"})
    assert response.status_code == 422
    assert strings("en")["agent_search_too_long"].format(max=300) in response.text


# --- logging the call --------------------------------------------------------------------


def test_logging_a_call_files_an_agent_report_and_shows_the_ticket(
    client: TestClient, grid_database: str, agent_customers: Iterator[Premise]
) -> None:
    premise = next(agent_customers)
    assert premise.customer is not None
    account = premise.customer.account
    description = unique_description("logged")
    form = _log_form(_search(client, account, "en"), account)
    response = client.post(
        "/agent/reports",
        data={**form, "description": description, "hazard": Hazard.TREE_ON_LINE.value},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    assert location.startswith("/agent?")
    assert parse_qs(urlsplit(location).query) == {
        "q": [account],
        "ticket": [_ticket_of(location)],
        "lang": ["en"],
    }
    [stored] = _reports(grid_database, description)
    assert stored.ticket == _ticket_of(location)
    assert stored.channel is Channel.AGENT
    assert stored.hazard is Hazard.TREE_ON_LINE
    assert stored.match_method is MatchMethod.ACCOUNT
    assert stored.status is ReportStatus.RECEIVED
    assert stored.idempotency_key == f"agent-form:{form['token']}"

    page = client.get(location)
    assert page.status_code == 200
    html = page.text
    assert f'<p class="ticket" id="confirmation-ticket">{stored.ticket}</p>' in html
    assert strings("en")["agent_logged_received"] in html
    assert f'<td class="ref">{stored.ticket}</td>' in html, "now among the open reports"
    assert _log_form(html, account)["token"] != form["token"], "a fresh form for the next call"


def test_the_same_form_twice_files_one_report(
    client: TestClient, grid_database: str, agent_customers: Iterator[Premise]
) -> None:
    premise = next(agent_customers)
    assert premise.customer is not None
    account = premise.customer.account
    description = unique_description("double post")
    data = {**_log_form(_search(client, account), account), "description": description}
    first = client.post("/agent/reports", data=data, follow_redirects=False)
    second = client.post("/agent/reports", data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(_reports(grid_database, description)) == 1


def test_a_second_call_about_the_same_outage_is_attached_to_the_first(
    client: TestClient, grid_database: str, agent_customers: Iterator[Premise]
) -> None:
    premise = next(agent_customers)
    assert premise.customer is not None
    account = premise.customer.account
    code, first, _ = _log(client, account, "en", description=unique_description("first call"))
    assert code == 303
    code, second, _ = _log(client, account, "en", description=unique_description("second call"))
    assert code == 303
    assert _ticket_of(first) != _ticket_of(second)
    assert stored_report(grid_database, _ticket_of(second)).status is ReportStatus.DUPLICATE
    html = client.get(second).text
    already = strings("en")["agent_logged_duplicate"].format(ticket=_ticket_of(first))
    assert already == f"Already known — attached to {_ticket_of(first)}."
    assert already in html


def test_a_used_form_with_other_details_asks_to_log_again(
    client: TestClient, grid_database: str, agent_customers: Iterator[Premise]
) -> None:
    premise = next(agent_customers)
    assert premise.customer is not None
    account = premise.customer.account
    data = {
        **_log_form(_search(client, account, "en"), account),
        "description": unique_description("a"),
    }
    assert client.post("/agent/reports", data=data, follow_redirects=False).status_code == 303
    changed = {**data, "description": unique_description("changed")}
    response = client.post("/agent/reports", data=changed, follow_redirects=False)
    assert response.status_code == 422
    assert strings("en")["agent_error_form_used"] in response.text
    assert _log_form(response.text, account)["token"] != data["token"]
    assert f">{changed['description']}</textarea>" in response.text, "what was typed stays"
    assert _reports(grid_database, changed["description"]) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"description": "x" * 2001}, "error_too_long"),
        ({"hazard": "alien_invasion"}, "error_hazard"),
        ({"token": "not-a-token"}, "agent_error_form_invalid"),
        ({"account": ""}, "agent_error_form_invalid"),
    ],
)
def test_a_broken_form_is_shown_again_and_nothing_is_stored(
    client: TestClient,
    grid_database: str,
    sample_grid: GridModel,
    fields: dict[str, str],
    message: str,
) -> None:
    premise = sample_grid.premises[LOOKUP_BAND][3]
    assert premise.customer is not None
    account = premise.customer.account
    marker = unique_description("refused")
    data = {**_log_form(_search(client, account, "en"), account), "description": marker}
    response = client.post("/agent/reports", data={**data, **fields}, follow_redirects=False)
    assert response.status_code == 422
    expected = strings("en")[message].format(
        field=strings("en")["agent_field_description"], max=2000
    )
    assert expected in response.text
    assert 'id="errors" role="alert"' in response.text
    assert _reports(grid_database, marker) == []
    assert _reports(grid_database, fields.get("description", "")) == []


# --- the customer's surroundings: requests, outages, messages ------------------------------


def _request_form(html: str, account: str) -> dict[str, str]:
    """The hidden fields of the service-request form for one customer of the results."""
    for form in re.findall(r'<form method="post" action="/agent/requests".*?</form>', html, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
        if fields.get("account") == account:
            return fields
    raise AssertionError(f"no service-request form for {account}")


def test_filing_a_service_request_for_the_caller_shows_it_among_their_open_requests(
    client: TestClient, grid_database: str, agent_customers: Iterator[Premise]
) -> None:
    premise = next(agent_customers)
    assert premise.customer is not None
    account = premise.customer.account
    form = _request_form(_search(client, account, "en"), account)
    data = {**form, "type": "meter_check", "description": XSS}
    response = client.post("/agent/requests", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    [ticket] = parse_qs(urlsplit(response.headers["location"]).query)["ticket"]
    again = client.post("/agent/requests", data=data, follow_redirects=False)
    assert again.headers["location"] == response.headers["location"], "one request per form"

    with session_factory(grid_database)() as session:
        [stored] = session.scalars(select(ServiceRequest).where(ServiceRequest.ticket == ticket))
    assert (stored.request_type, stored.channel) == (RequestType.METER_CHECK, Channel.AGENT)
    assert stored.customer_id is not None

    html = client.get(response.headers["location"]).text
    assert strings("en")["agent_request_logged"] in html
    requests = html.split('class="open-requests"', 1)[1].split("</table>", 1)[0]
    assert ticket in requests and "Meter accuracy check" in requests
    assert XSS not in html


def test_a_bad_request_type_is_refused_in_place(
    client: TestClient, agent_customers: Iterator[Premise]
) -> None:
    premise = next(agent_customers)
    assert premise.customer is not None
    account = premise.customer.account
    form = _request_form(_search(client, account, "en"), account)
    response = client.post("/agent/requests", data={**form, "type": "a_pony"})
    assert response.status_code == 422
    assert strings("en")["error_type"] in response.text


def test_the_card_shows_an_outage_upstream_of_the_customer_then_its_history(
    client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    premise = sample_grid.premises[LOOKUP_BAND][4]
    assert premise.customer is not None
    started = datetime.now(UTC) - timedelta(minutes=30)
    with session_scope(session_factory(grid_database)) as session:
        transformer = session.scalar(
            select(grid.Device.asset_ref)
            .join(grid.Premise, grid.Premise.transformer_id == grid.Device.id)
            .where(grid.Premise.ref == premise.ref)
        )
        assert transformer is not None
        incident = open_incident(
            session,
            device_asset_ref=transformer,
            confidence=0.9,
            customers_affected=1,
            started_at=started,
            reason="agent console test",
        )
    try:
        html = _search(client, premise.customer.account, "en")
        active = html.split('class="active-outages"', 1)[1].split("</table>", 1)[0]
        assert f'<td class="ref">{incident}</td>' in active
        assert transformer in active
    finally:
        with session_scope(session_factory(grid_database)) as session:
            restore(session, incident, at=datetime.now(UTC), reason="agent console test over")
    html = _search(client, premise.customer.account, "en")
    # Other tests share the grid: only this incident is known to be over.
    still_active = html.partition('class="active-outages"')[2].split("</table>", 1)[0]
    assert f'<td class="ref">{incident}</td>' not in still_active
    history = html.split('class="outage-history"', 1)[1].split("</table>", 1)[0]
    assert f'<td class="ref">{incident}</td>' in history


def test_the_card_tells_an_outages_etr_with_its_range(
    client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    premise = sample_grid.premises[LOOKUP_BAND][9]
    assert premise.customer is not None
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    etr = now + timedelta(hours=2)
    with session_scope(session_factory(grid_database)) as session:
        transformer = session.scalar(
            select(grid.Device.asset_ref)
            .join(grid.Premise, grid.Premise.transformer_id == grid.Device.id)
            .where(grid.Premise.ref == premise.ref)
        )
        assert transformer is not None
        incident = open_incident(
            session,
            device_asset_ref=transformer,
            confidence=0.9,
            customers_affected=1,
            started_at=now - timedelta(minutes=30),
            reason="agent console test",
        )
        set_etr(
            session, incident, etr=etr, likely=(etr - timedelta(hours=1), etr + timedelta(hours=1))
        )
    try:
        html = _search(client, premise.customer.account, "en")
        active = html.split('class="active-outages"', 1)[1].split("</table>", 1)[0]
        assert "(likely between " in active
    finally:
        with session_scope(session_factory(grid_database)) as session:
            restore(session, incident, at=datetime.now(UTC), reason="agent console test over")


def test_an_agent_adds_a_contact_for_the_caller_and_stops_it(
    agent_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    premise = sample_grid.premises[LOOKUP_BAND][7]
    assert premise.customer is not None
    account = premise.customer.account
    added = agent_client.post(
        "/agent/contacts",
        data={"account": account, "channel": "sms", "contact": "0987 000 888", "q": account},
        follow_redirects=False,
    )
    assert added.status_code == 303
    page = agent_client.get("/agent", params={"q": account, "lang": "en"}).text
    assert "+84987000888" in page and "Getting alerts" in page
    stop = re.search(r'action="/agent/contacts/(\d+)/stop"', page)
    assert stop is not None
    stopped = agent_client.post(
        f"/agent/contacts/{stop[1]}/stop", data={"q": account}, follow_redirects=False
    )
    assert stopped.status_code == 303
    page = agent_client.get("/agent", params={"q": account, "lang": "en"}).text
    assert "Stopped" in page and f"/agent/contacts/{stop[1]}/stop" not in page
    refused = agent_client.post(
        "/agent/contacts", data={"account": account, "contact": "12", "q": account, "lang": "en"}
    )
    assert refused.status_code == 422 and "was not added" in refused.text


def test_a_report_closed_inside_the_premise_offers_the_agent_a_service_visit(
    client: TestClient, grid_database: str, agent_customers: Iterator[Premise]
) -> None:
    premise = next(agent_customers)
    assert premise.customer is not None
    account = premise.customer.account
    code, location, _ = _log(client, account, description=unique_description("visit"))
    assert code == 303
    report_ticket = _ticket_of(location)
    with session_scope(session_factory(grid_database)) as session:
        report = session.scalars(select(Report).where(Report.ticket == report_ticket)).one()
        report.status, report.outcome = ReportStatus.CLOSED, ReportOutcome.INSIDE_PREMISE
        report.closed_at = datetime.now(UTC)
    html = _search(client, account, "en")
    assert strings("en")["agent_inside_premise"] in html
    action = f"/agent/reports/{report_ticket}/visit"
    assert f'action="{action}"' in html
    response = client.post(action, data={"q": account, "lang": "en"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    [ticket] = parse_qs(urlsplit(response.headers["location"]).query)["ticket"]
    with session_factory(grid_database)() as session:
        [stored] = session.scalars(select(ServiceRequest).where(ServiceRequest.ticket == ticket))
    assert (stored.request_type, stored.details) == (
        RequestType.CONNECTION_CHECK,
        {"report": report_ticket},
    )


def test_a_visit_for_an_open_report_is_refused_in_place(
    client: TestClient, agent_customers: Iterator[Premise]
) -> None:
    premise = next(agent_customers)
    assert premise.customer is not None
    code, location, _ = _log(
        client, premise.customer.account, description=unique_description("visit")
    )
    assert code == 303
    response = client.post(f"/agent/reports/{_ticket_of(location)}/visit", data={"lang": "en"})
    assert response.status_code == 409
    assert strings("en")["agent_visit_error"] in response.text
