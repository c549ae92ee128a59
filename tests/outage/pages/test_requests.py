"""The customer's request pages: the form, a request's page, and rating it."""

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from grid_topology.model import Premise
from outage.care import owners, service
from outage.care.enums import RequestState
from outage.care.schemas import OwnerIn
from outage.i18n import strings
from outage.settings import get_settings

XSS = "<img src=x onerror=alert(1)>"


def _file(client: TestClient, premise: Premise, **fields: str) -> str:
    assert premise.customer is not None
    form = {
        "type": "meter_check",
        "account": premise.customer.account,
        "details": XSS,
        "token": str(uuid.uuid4()),
        "lang": "en",
        **fields,
    }
    answer = client.post("/request", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["location"]
    found = re.match(r"^/request/([^?]+)\?lang=en$", location)
    assert found is not None
    return found[1]


def _shown(client: TestClient, ticket: str, digits: str) -> str:
    """The request's page, as its customer sees it after giving their phone's digits."""
    page = client.post(f"/request/{ticket}", data={"phone_last4": digits, "lang": "en"})
    assert page.status_code == 200, page.text
    return page.text


def test_the_form_files_a_request_whose_page_shows_nothing_personal(
    anonymous_client: TestClient, care_customer: Premise
) -> None:
    form = anonymous_client.get("/request", params={"lang": "en"})
    assert form.status_code == 200 and "Meter accuracy check" in form.text
    assert "<script" not in form.text and " style=" not in form.text
    ticket = _file(anonymous_client, care_customer)
    assert service.is_request_ticket(ticket)
    assert care_customer.customer is not None
    page = anonymous_client.post(
        f"/request/{ticket}",
        data={"phone_last4": care_customer.customer.phone[-4:], "lang": "en"},
    )
    assert page.status_code == 200
    assert ticket in page.text and "Meter accuracy check" in page.text
    for personal in (care_customer.customer.account, care_customer.customer.name, "onerror"):
        assert personal not in page.text
    assert 'id="rating-form"' not in page.text, "nothing to rate before it is closed"

    moved = anonymous_client.get(f"/status/{ticket.lower()}", follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"].startswith(f"/request/{ticket}?")


def test_a_form_without_a_type_or_a_clue_is_shown_again_with_the_problems(
    anonymous_client: TestClient,
) -> None:
    answer = anonymous_client.post(
        "/request", data={"type": "", "token": str(uuid.uuid4()), "lang": "en"}
    )
    assert answer.status_code == 422
    assert strings("en")["error_type"] in answer.text
    nowhere = anonymous_client.post(
        "/request", data={"type": "billing_question", "token": str(uuid.uuid4()), "lang": "en"}
    )
    assert nowhere.status_code == 422
    assert strings("en")["error_request_who"] in nowhere.text


def test_the_customer_rates_a_closed_request_on_its_page_once(
    anonymous_client: TestClient, session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    ticket = _file(anonymous_client, care_customer)
    for state in (RequestState.IN_PROGRESS, RequestState.DONE):
        service.transition(session, ticket, to=state, reason=None, actor="t")
    session.commit()
    digits = care_customer.customer.phone[-4:]
    assert 'id="rating-form"' in _shown(anonymous_client, ticket, digits)
    url = f"/request/{ticket}/rating"
    wrong = "0000" if digits != "0000" else "1111"
    refused = anonymous_client.post(url, data={"rating": "4", "phone_last4": wrong, "lang": "en"})
    assert refused.status_code == 403
    assert strings("en")["rating_error_phone"] in refused.text
    malformed = anonymous_client.post(url, data={"rating": "4", "phone_last4": "12", "lang": "en"})
    assert malformed.status_code == 422, "as on the request's page and over the API"
    assert strings("en")["rating_error_phone"] in malformed.text
    rated = anonymous_client.post(
        url, data={"rating": "4", "comment": "ok", "phone_last4": digits, "lang": "en"}
    )
    assert rated.status_code == 200
    assert strings("en")["rating_thanks"].format(rating=4) in rated.text
    again = anonymous_client.post(url, data={"rating": "1", "phone_last4": digits, "lang": "en"})
    assert again.status_code == 409


def test_the_page_asks_for_the_phone_digits_before_showing_the_rejection_reason(
    anonymous_client: TestClient, session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    ticket = _file(anonymous_client, care_customer)
    reason = f"No meter at this address {uuid.uuid4().hex[:8]}"
    service.transition(session, ticket, to=RequestState.REJECTED, reason=reason, actor="t")
    session.commit()
    page = anonymous_client.get(f"/request/{ticket}")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and strings("vi")["prove_hint"] in page.text
    assert reason not in page.text
    assert strings("vi")["request_type_label"] not in page.text
    assert reason in _shown(anonymous_client, ticket, care_customer.customer.phone[-4:])


def test_wrong_phone_digits_show_nothing_of_the_request(
    anonymous_client: TestClient, session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    ticket = _file(anonymous_client, care_customer)
    reason = f"Duplicate request {uuid.uuid4().hex[:8]}"
    service.transition(session, ticket, to=RequestState.REJECTED, reason=reason, actor="t")
    session.commit()
    digits = care_customer.customer.phone[-4:]
    wrong = "0000" if digits != "0000" else "1111"
    page = anonymous_client.post(f"/request/{ticket}", data={"phone_last4": wrong, "lang": "en"})
    assert page.status_code == 403
    assert strings("en")["prove_error"] in page.text
    assert reason not in page.text


def test_the_page_shows_the_requests_history_by_team_without_notes_or_staff(
    anonymous_client: TestClient, session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    ticket = _file(anonymous_client, care_customer)
    team = f"Billing <desk> {uuid.uuid4().hex[:6]}"
    owners.save_team(session, team, members=["agent-hidden"])
    service.transition(
        session, ticket, to=RequestState.IN_PROGRESS, reason="a staff note", actor="agent-x"
    )
    service.set_owner(
        session,
        ticket,
        OwnerIn(team=team, agent="agent-hidden", reason="a private reason"),
        actor="agent-x",
        settings=get_settings(),
    )
    session.commit()
    digits = care_customer.customer.phone[-4:]
    wrong = "0000" if digits != "0000" else "1111"
    refused = anonymous_client.post(f"/request/{ticket}", data={"phone_last4": wrong})
    assert 'id="history"' not in refused.text and "Billing" not in refused.text
    page = _shown(anonymous_client, ticket, digits)
    history = page.split('id="history"', 1)[1].split("</ol>", 1)[0]
    t = strings("en")
    assert t["history_received"] in history
    assert "Handled by Billing &lt;desk&gt;" in history and "<desk>" not in page
    assert "Now: In progress" in history
    for secret in ("a staff note", "a private reason", "agent-hidden", "agent-x"):
        assert secret not in page
