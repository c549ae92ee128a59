"""The customer's request pages: the form, a request's page, and rating it."""

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from grid_topology.model import Premise
from outage.care import service
from outage.care.enums import RequestState
from outage.pages.i18n import STRINGS

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


def test_the_form_files_a_request_whose_page_shows_nothing_personal(
    anonymous_client: TestClient, care_customer: Premise
) -> None:
    form = anonymous_client.get("/request", params={"lang": "en"})
    assert form.status_code == 200 and "Meter accuracy check" in form.text
    assert "<script" not in form.text and " style=" not in form.text
    ticket = _file(anonymous_client, care_customer)
    assert service.is_request_ticket(ticket)
    page = anonymous_client.get(f"/request/{ticket}", params={"lang": "en"})
    assert page.status_code == 200
    assert ticket in page.text and "Meter accuracy check" in page.text
    assert care_customer.customer is not None
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
    assert STRINGS["en"]["error_type"] in answer.text
    nowhere = anonymous_client.post(
        "/request", data={"type": "billing_question", "token": str(uuid.uuid4()), "lang": "en"}
    )
    assert nowhere.status_code == 422
    assert STRINGS["en"]["error_request_who"] in nowhere.text


def test_the_customer_rates_a_closed_request_on_its_page_once(
    anonymous_client: TestClient, session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    ticket = _file(anonymous_client, care_customer)
    for state in (RequestState.IN_PROGRESS, RequestState.DONE):
        service.transition(session, ticket, to=state, reason=None, actor="t")
    session.commit()
    page = anonymous_client.get(f"/request/{ticket}", params={"lang": "en"})
    assert 'id="rating-form"' in page.text
    url = f"/request/{ticket}/rating"
    digits = care_customer.customer.phone[-4:]
    wrong = "0000" if digits != "0000" else "1111"
    refused = anonymous_client.post(url, data={"rating": "4", "phone_last4": wrong, "lang": "en"})
    assert refused.status_code == 403
    assert STRINGS["en"]["rating_error_phone"] in refused.text
    rated = anonymous_client.post(
        url,
        data={"rating": "4", "comment": "ok", "phone_last4": digits, "lang": "en"},
        follow_redirects=False,
    )
    assert rated.status_code == 303
    thanks = anonymous_client.get(rated.headers["location"]).text
    assert STRINGS["en"]["rating_thanks"].format(rating=4) in thanks
    again = anonymous_client.post(url, data={"rating": "1", "phone_last4": digits, "lang": "en"})
    assert again.status_code == 409
