"""The IVR webhook: each menu path, languages, retries."""

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from outage.app import create_app
from outage.db import session_factory, session_scope
from outage.incidents.changes import cancel, open_incident
from outage.incidents.evidence import EvidenceRef
from outage.intake.channels.texts import spoken_ticket
from outage.intake.models import Report
from outage.settings import Settings

PersonMaker = Callable[..., Any]
"""The `person` fixture: a fresh sample-grid customer."""
RowFinder = Callable[[str], dict[str, Any]]

IVR_URL = "/api/v1/channels/ivr"


def call(
    client: TestClient, caller: str | None, digits: str, call_id: str | None = None, **extra: str
) -> Any:
    body = {"call_id": call_id or uuid.uuid4().hex, "caller": caller, "digits": digits, **extra}
    response = client.post(IVR_URL, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def keyed(account: str) -> str:
    return re.sub(r"\D", "", account)


def test_no_digits_plays_the_menu(channels_client: TestClient, person: PersonMaker) -> None:
    answer = call(channels_client, person(language="vi").phone, "")
    assert (answer["next"], answer["language"], answer["ticket"]) == ("menu", "vi", None)
    assert "bấm 1" in answer["say"]


def test_1_reports_at_the_callers_registered_premise(
    channels_client: TestClient, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person(language="vi")
    answer = call(channels_client, "0" + customer.phone.removeprefix("+84"), "1#")
    assert answer["next"] == "hangup"
    assert answer["say"] == f"Đã nhận báo mất điện. Mã số: {spoken_ticket(answer['ticket'])}"
    row = report_row(answer["ticket"])
    assert (row["channel"], row["match_method"], row["premise"]) == (
        "ivr",
        "phone",
        customer.premise,
    )


def test_1_star_account_digits_reports_for_that_account(
    channels_client: TestClient,
    person: PersonMaker,
    unknown_phone: Callable[[], str],
    report_row: RowFinder,
) -> None:
    customer = person(language="en")
    answer = call(channels_client, unknown_phone(), f"1*{keyed(customer.account)}")
    assert answer["language"] == "en"
    assert answer["say"].startswith("Outage report received. Ticket: ")
    row = report_row(answer["ticket"])
    assert (row["match_method"], row["premise"]) == ("account", customer.premise)


def test_report_for_another_customers_account_does_not_tell_their_earlier_ticket(
    channels_client: TestClient, person: PersonMaker, unknown_phone: Callable[[], str]
) -> None:
    customer = person(language="en")
    first = call(channels_client, customer.phone, "1")
    stranger = call(channels_client, unknown_phone(), f"1*{keyed(customer.account)}")
    assert spoken_ticket(first["ticket"]) not in stranger["say"]
    assert spoken_ticket(stranger["ticket"]) in stranger["say"]


def test_unknown_account_digits_go_back_to_the_menu(
    channels_client: TestClient, unknown_phone: Callable[[], str]
) -> None:
    answer = call(channels_client, unknown_phone(), "1*99999999")
    assert (answer["next"], answer["ticket"]) == ("menu", None)
    assert (
        answer["say"]
        == "Không tìm thấy mã khách hàng 9 9 9 9 9 9 9 9. Vui lòng kiểm tra và thử lại."
    )


def test_caller_registered_for_several_premises_goes_to_the_agents(
    channels_client: TestClient,
    channels_database: str,
    person: PersonMaker,
    report_row: RowFinder,
) -> None:
    first, second = person(language="vi"), person(language="vi")
    with session_scope(session_factory(channels_database)) as session:
        session.execute(
            text("UPDATE customers SET phone = :phone WHERE account = :account"),
            {"phone": first.phone, "account": second.account},
        )
    answer = call(channels_client, first.phone, "1")
    assert answer["say"].startswith("Số điện thoại này được đăng ký cho nhiều địa chỉ.")
    row = report_row(answer["ticket"])
    assert row["status"] == "needs_agent"
    assert set(row["candidates"]) == {first.premise, second.premise}


def test_unregistered_caller_is_told_an_agent_will_confirm(
    channels_client: TestClient, unknown_phone: Callable[[], str], report_row: RowFinder
) -> None:
    answer = call(channels_client, unknown_phone(), "1", language="en")
    assert answer["say"].startswith("This phone number is not registered with us. ")
    assert report_row(answer["ticket"])["status"] == "needs_agent"


def test_withheld_caller_id_is_asked_for_the_account(channels_client: TestClient) -> None:
    answer = call(channels_client, "anonymous", "1")
    assert (answer["next"], answer["ticket"]) == ("menu", None)
    assert "phím sao" in answer["say"]


def test_2_tells_the_status_of_the_callers_latest_report(
    channels_client: TestClient, person: PersonMaker
) -> None:
    customer = person(language="en")
    ticket = call(channels_client, customer.phone, "1")["ticket"]
    answer = call(channels_client, customer.phone, "2")
    assert (answer["ticket"], answer["next"]) == (ticket, "hangup")
    assert answer["say"] == f"Ticket {spoken_ticket(ticket)}: we are working on it."


def test_2_tells_a_cancelled_outage_was_none_on_our_side(
    channels_client: TestClient, channels_database: str, person: PersonMaker
) -> None:
    customer = person(language="en")
    ticket = call(channels_client, customer.phone, "1")["ticket"]
    with session_scope(session_factory(channels_database)) as session:
        report = session.scalars(select(Report).where(Report.ticket == ticket)).one()
        incident = open_incident(
            session,
            account=customer.account,
            confidence=0.5,
            customers_affected=1,
            started_at=datetime.now(UTC) - timedelta(minutes=20),
            reason="one customer's call",
            evidence=[EvidenceRef.report(report.id)],
        )
        cancel(session, incident, reason="the network is fine there")
    answer = call(channels_client, customer.phone, "2")
    assert answer["say"] == (
        f"Ticket {spoken_ticket(ticket)}: we found no outage on our side; "
        "your premise's connection is being checked."
    )
    assert customer.phone not in answer["say"] and customer.account not in answer["say"]


def test_2_without_any_report_says_so(
    channels_client: TestClient, unknown_phone: Callable[[], str]
) -> None:
    answer = call(channels_client, unknown_phone(), "2")
    assert answer["say"] == "Chúng tôi chưa nhận được báo cáo nào từ số điện thoại này."


def test_9_transfers_to_an_agent(channels_client: TestClient) -> None:
    assert call(channels_client, None, "9")["next"] == "agent"


def test_invalid_choice_plays_the_menu_again(channels_client: TestClient) -> None:
    answer = call(channels_client, None, "7", language="en")
    assert answer["next"] == "menu"
    assert answer["say"].startswith("Sorry, that is not a valid choice. If you see wires down")


def test_retried_webhook_of_a_call_gets_the_same_ticket(
    channels_client: TestClient,
    person: PersonMaker,
    count_reports: Callable[[str], int],
) -> None:
    customer = person()
    call_id = f"call-{uuid.uuid4().hex}"
    first = call(channels_client, customer.phone, "1", call_id)
    again = call(channels_client, customer.phone, "1", call_id)
    assert again == first
    assert count_reports(f"ivr:{call_id}:1") == 1


def test_call_without_call_id_is_422(channels_client: TestClient) -> None:
    assert channels_client.post(IVR_URL, json={"caller": "0912345678"}).status_code == 422


def test_tickets_are_spelled_out_for_speech() -> None:
    assert spoken_ticket("261125-AB3CD") == "2 6 1 1 2 5, A B 3 C D"


# Hazards.

HazardFinder = Callable[[str], Any]
"""The `hazard_incident` fixture: the hazard incident a ticket's report is on, or None."""


@pytest.mark.parametrize(
    ("language", "digits", "hazard", "safety"),
    [
        ("vi", "3", "wires_down", "Đã nhận báo nguy hiểm"),
        ("en", "3", "wires_down", "Hazard report received"),
        ("vi", "4", "fire", "Nếu có dây điện bị đứt hoặc cháy"),
        ("en", "4", "fire", "stay at least 10 metres away"),
    ],
)
def test_hazard_choice_opens_its_hazard_incident_before_the_answer(
    channels_client: TestClient,
    person: PersonMaker,
    hazard_incident: HazardFinder,
    language: str,
    digits: str,
    hazard: str,
    safety: str,
) -> None:
    """The webhook opens the hazard incident in its own request's transaction
    (`_with_hazard_opened` in outage/api/channels.py): it is committed with the report
    before the IVR speaks, and read here right after the answer, with no engine running."""
    customer = person(language=language)
    answer = call(channels_client, customer.phone, digits)
    assert (answer["next"], answer["language"]) == ("hangup", language)
    assert safety in answer["say"]
    found = hazard_incident(answer["ticket"])
    assert found is not None
    assert (found.hazard, found.premise) == (hazard, customer.premise)


def test_hazard_choice_with_an_account_reports_there(
    channels_client: TestClient, person: PersonMaker, hazard_incident: HazardFinder
) -> None:
    customer = person()
    answer = call(channels_client, None, f"4*{keyed(customer.account)}")
    found = hazard_incident(answer["ticket"])
    assert found is not None
    assert (found.hazard, found.premise) == ("fire", customer.premise)


def test_hazard_from_an_unregistered_number_opens_at_once_unplaced(
    channels_client: TestClient,
    unknown_phone: Callable[[], str],
    report_row: RowFinder,
    hazard_incident: HazardFinder,
) -> None:
    answer = call(channels_client, unknown_phone(), "3")
    assert report_row(answer["ticket"])["status"] == "needs_agent"
    found = hazard_incident(answer["ticket"])
    assert found is not None
    assert found.premise is None


def test_hazard_choice_past_the_rate_limit_is_filed_with_the_safety_advice(
    channels_database: str,
    channels_settings: Settings,
    gateway_headers: dict[str, str],
    person: PersonMaker,
    hazard_incident: HazardFinder,
) -> None:
    strict = channels_settings.model_copy(update={"rate_limit_per_phone": "1/hour"})
    customer = person(language="en")
    with TestClient(create_app(channels_database, strict), headers=gateway_headers) as client:
        call(client, customer.phone, "1")
        assert call(client, customer.phone, "1")["ticket"] is None
        answer = call(client, customer.phone, "3")
    assert "stay at least 10 metres away" in answer["say"]
    assert hazard_incident(answer["ticket"]) is not None


def test_hazard_called_in_again_joins_the_first_calls_incident(
    channels_client: TestClient, person: PersonMaker, hazard_incident: HazardFinder
) -> None:
    customer = person()
    first = call(channels_client, customer.phone, "3")["ticket"]
    again = call(channels_client, customer.phone, "3")["ticket"]
    opened = hazard_incident(first)
    assert opened is not None
    assert hazard_incident(again) == opened


def test_outage_choice_opens_no_hazard_incident(
    channels_client: TestClient, person: PersonMaker, hazard_incident: HazardFinder
) -> None:
    answer = call(channels_client, person().phone, "1")
    assert hazard_incident(answer["ticket"]) is None


def test_menu_offers_the_hazard_choices_first(channels_client: TestClient) -> None:
    answer = call(channels_client, None, "", language="en")
    assert answer["say"].startswith("If you see wires down, keep away and press 3.")
