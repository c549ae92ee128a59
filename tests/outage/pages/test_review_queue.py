"""The agents' review queue over HTTP on the sample grid: /agent/queue, and placing a
queued report on a premise."""

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import GridModel, Premise
from outage.db import session_factory, session_scope
from outage.i18n import strings
from outage.intake import service
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.schemas import ReportIn
from outage.settings import get_settings

from .conftest import AGENT_BAND, stored_report, unique_description

XSS = "<img src=x onerror=alert(1)>"


def _queue(grid_database: str, **clues: str) -> str:
    """A report nothing places, straight through intake; its ticket."""
    report = ReportIn.model_validate({**clues, "channel": Channel.SMS})
    with session_scope(session_factory(grid_database)) as session:
        receipt = service.submit_report(session, service.Submission(report), get_settings())
    assert receipt.status is ReportStatus.NEEDS_AGENT
    return receipt.ticket


def _queue_page_with(client: TestClient, ticket: str, language: str = "vi") -> str:
    """The queue page that lists a ticket; other tests leave reports in the queue too."""
    url = f"/agent/queue?lang={language}"
    for _ in range(100):
        response = client.get(url)
        assert response.status_code == 200
        if f'id="report-{ticket}"' in response.text:
            return response.text
        newer = re.search(r'id="queue-newer" href="([^"]+)"', response.text)
        assert newer, f"{ticket} is not in the queue"
        url = newer.group(1).replace("&amp;", "&")
    raise AssertionError("the queue does not end")


def test_the_queue_escapes_what_the_reporter_said(client: TestClient, grid_database: str) -> None:
    address = "<b onmouseover=alert(1)>nowhere at all</b>"
    ticket = _queue(grid_database, description=XSS, address=address)
    html = _queue_page_with(client, ticket, "en")
    assert XSS not in html and "<b onmouseover" not in html
    assert '<dd class="said">&lt;img src=x onerror=alert(1)&gt;</dd>' in html
    assert "&lt;b onmouseover=alert(1)&gt;nowhere at all&lt;/b&gt;" in html
    assert strings("en")["channel.sms"] in html


def test_the_queue_shows_candidate_premises_with_their_addresses(
    client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    street = sample_grid.premises[AGENT_BAND][0].address.split(",")[0].split(" ", 1)[1]
    ticket = _queue(grid_database, address=street, description=unique_description("candidates"))
    with session_factory(grid_database)() as session:
        [queued] = [r for r in service.review_queue(session, limit=500) if r.ticket == ticket]
    assert queued.candidates, "an address without a house number is a tie"
    html = _queue_page_with(client, ticket)
    by_ref = {p.ref: p.address for p in sample_grid.premises}
    for ref in queued.candidates:
        assert f'<input type="hidden" name="premise" value="{ref}">' in html
        assert by_ref[ref] in html


def test_placing_a_queued_report_from_the_queue(
    client: TestClient, grid_database: str, agent_customers: Iterator[Premise]
) -> None:
    premise = next(agent_customers)
    ticket = _queue(
        grid_database, address="nowhere street 9", description=unique_description("place")
    )
    assert f'id="report-{ticket}"' in _queue_page_with(client, ticket)
    response = client.post(
        f"/agent/queue/{ticket}/placement",
        data={"premise": f" {premise.ref} ", "lang": "en"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/agent/queue?placed={ticket}&lang=en"
    stored = stored_report(grid_database, ticket)
    assert stored.status is ReportStatus.RECEIVED
    assert stored.match_method is MatchMethod.AGENT
    page = client.get(response.headers["location"])
    assert strings("en")["agent_placed"].format(ticket=ticket) in page.text
    assert f'id="report-{ticket}"' not in page.text

    again = client.post(
        f"/agent/queue/{ticket}/placement",
        data={"premise": premise.ref, "lang": "en"},
        follow_redirects=False,
    )
    assert again.status_code == 409
    assert strings("en")["agent_error_not_in_queue"].format(ticket=ticket) in again.text
    assert strings("en")["agent_queue_title"] in again.text


@pytest.mark.parametrize(
    ("premise", "code", "message"),
    [
        ("P-NO-SUCH-PREMISE", 422, "agent_error_unknown_premise"),
        ("<i>P-X</i>", 422, "agent_error_unknown_premise"),
        ("   ", 422, "agent_error_premise_required"),
    ],
)
def test_a_bad_premise_is_refused_and_the_report_stays_queued(
    client: TestClient, grid_database: str, premise: str, code: int, message: str
) -> None:
    ticket = _queue(grid_database, address="nowhere lane 7", description=unique_description("bad"))
    response = client.post(
        f"/agent/queue/{ticket}/placement",
        data={"premise": premise, "lang": "en"},
        follow_redirects=False,
    )
    assert response.status_code == code
    assert response.headers["cache-control"] == "no-store"
    assert strings("en")["agent_queue_title"] in response.text
    escaped = premise.strip().replace("<", "&lt;").replace(">", "&gt;")
    assert strings("en")[message].format(premise=escaped) in response.text
    assert "<i>" not in response.text
    assert stored_report(grid_database, ticket).status is ReportStatus.NEEDS_AGENT


def test_placing_an_unknown_ticket_is_a_404_page(client: TestClient) -> None:
    response = client.post(
        "/agent/queue/260101-ZZZZZ/placement",
        data={"premise": "P-1", "lang": "en"},
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert strings("en")["agent_error_unknown_ticket"].format(ticket="260101-ZZZZZ") in (
        response.text
    )
