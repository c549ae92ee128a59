"""The SMS webhook: keywords in both languages, replies, retries, limits."""

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outage.app import create_app
from outage.i18n import Language
from outage.intake.channels.sms import Intent, normalize_ticket, parse
from outage.intake.channels.texts import GSM7_BASIC
from outage.settings import Settings

PersonMaker = Callable[..., Any]
"""The `person` fixture: a fresh sample-grid customer."""
RowFinder = Callable[[str], dict[str, Any]]

SMS_URL = "/api/v1/channels/sms"
TICKET = re.compile(r"\d{6}-[2-9A-Z]{5}")


def sms(client: TestClient, sender: str, text: str, message_id: str | None = None) -> Any:
    body = {"from": sender, "text": text, "message_id": message_id or uuid.uuid4().hex}
    response = client.post(SMS_URL, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def assert_one_gsm7_sms(reply: str) -> None:
    assert len(reply) <= 160
    assert all(char in GSM7_BASIC for char in reply), reply


# Parsing, without the database.


def test_keywords_are_found_whatever_the_case_and_accents() -> None:
    assert parse("Mất Điện LV4.301 Load 1 tối om") == parse("matdien LV4.301 Load 1 tối om")
    assert parse("mat dien").intent is Intent.REPORT
    assert parse("out 12345").language is Language.EN
    assert parse("Trạng thái 261125-ABCDE").intent is Intent.STATUS
    assert parse("huong dan").language is Language.VI
    assert parse("HELP").intent is Intent.HELP


def test_words_after_the_keyword_keep_their_accents() -> None:
    command = parse("MATDIEN  PD123 cột điện đổ")
    assert command.words == ("PD123", "cột", "điện", "đổ")


def test_text_without_a_keyword_is_unknown() -> None:
    assert parse("Nha toi mat dien roi").intent is Intent.UNKNOWN
    assert parse("").intent is Intent.UNKNOWN


def test_tickets_are_accepted_without_dash_and_in_lower_case() -> None:
    assert normalize_ticket("261125abcde") == "261125-ABCDE"
    assert normalize_ticket(" 261125-abcde ") == "261125-ABCDE"


# Reports.


def test_matdien_with_account_reports_for_that_account(
    channels_client: TestClient, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person(language="vi")
    answer = sms(channels_client, customer.phone, f"MATDIEN {customer.account} mất điện từ 8h")
    assert answer["reply"] == f"Da nhan bao mat dien. Ma so: {answer['ticket']}"
    row = report_row(answer["ticket"])
    assert (row["channel"], row["status"], row["match_method"]) == ("sms", "received", "account")
    assert row["premise"] == customer.premise
    assert row["description"] == "mất điện từ 8h"


def test_mat_dien_in_two_words_with_accents_is_a_report(
    channels_client: TestClient, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person(language="vi")
    answer = sms(channels_client, customer.phone, f"Mất điện {customer.account}")
    row = report_row(answer["ticket"])
    assert (row["match_method"], row["premise"]) == ("account", customer.premise)
    assert row["description"] is None


def test_out_with_account_from_another_number_reports_for_the_account(
    channels_client: TestClient,
    person: PersonMaker,
    unknown_phone: Callable[[], str],
    report_row: RowFinder,
) -> None:
    customer = person(language="en")
    answer = sms(channels_client, unknown_phone(), f"out {customer.account} lights out since noon")
    assert answer["reply"] == f"Outage report received. Ticket: {answer['ticket']}"
    row = report_row(answer["ticket"])
    assert (row["match_method"], row["description"]) == ("account", "lights out since noon")


def test_unknown_sender_gets_the_keywords_language(
    channels_client: TestClient, unknown_phone: Callable[[], str]
) -> None:
    english = sms(channels_client, unknown_phone(), "OUTAGE")
    vietnamese = sms(channels_client, unknown_phone(), "mat dien")
    assert english["reply"].startswith("Outage report received, ticket ")
    assert vietnamese["reply"].startswith("Da nhan bao mat dien, ma so ")


def test_report_without_account_is_placed_by_the_senders_phone(
    channels_client: TestClient, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person()
    answer = sms(channels_client, customer.phone, "MATDIEN")
    row = report_row(answer["ticket"])
    assert (row["match_method"], row["premise"]) == ("phone", customer.premise)


def test_free_text_without_account_becomes_the_description(
    channels_client: TestClient, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person()
    answer = sms(channels_client, customer.phone, "MAT DIEN cả khu phố tối om")
    row = report_row(answer["ticket"])
    assert (row["match_method"], row["account_given"]) == ("phone", None)
    assert row["description"] == "cả khu phố tối om"


def test_customers_language_wins_over_the_keywords(
    channels_client: TestClient, person: PersonMaker
) -> None:
    customer = person(language="en")
    answer = sms(channels_client, customer.phone, "MATDIEN")
    assert answer["reply"].startswith("Outage report received")


def test_unknown_account_is_kept_for_an_agent(
    channels_client: TestClient,
    unknown_phone: Callable[[], str],
    report_row: RowFinder,
) -> None:
    answer = sms(channels_client, unknown_phone(), "MATDIEN PD0999888777 no power")
    assert "Nhan vien se lien he" in answer["reply"]
    row = report_row(answer["ticket"])
    assert (row["status"], row["account_given"]) == ("needs_agent", "PD0999888777")
    assert row["description"] == "PD0999888777 no power"


def test_second_report_of_a_customer_says_it_was_reported_already(
    channels_client: TestClient, person: PersonMaker
) -> None:
    customer = person(language="vi")
    first = sms(channels_client, customer.phone, "MATDIEN")
    second = sms(channels_client, customer.phone, "MATDIEN van chua co dien")
    assert second["ticket"] != first["ticket"]
    assert second["reply"] == (
        f"Mat dien nay da duoc bao truoc do. Ma so cua ban: {second['ticket']}. "
        "Chung toi dang xu ly."
    )


def test_report_for_another_customers_account_does_not_tell_their_earlier_ticket(
    channels_client: TestClient, person: PersonMaker, unknown_phone: Callable[[], str]
) -> None:
    customer = person(language="en")
    first = sms(channels_client, customer.phone, "OUT")
    stranger = sms(channels_client, unknown_phone(), f"OUT {customer.account}")
    assert first["ticket"] not in stranger["reply"]
    assert stranger["ticket"] in stranger["reply"]


def test_report_from_a_short_code_without_account_asks_for_one(
    channels_client: TestClient,
) -> None:
    answer = sms(channels_client, "VIETTEL", "OUT")
    assert answer == {
        "reply": "We could not identify you. Send: OUT <account> <details>",
        "ticket": None,
    }


# Idempotency, body formats, limits.


def test_gateway_retry_with_the_same_message_id_gets_the_same_ticket(
    channels_client: TestClient,
    person: PersonMaker,
    count_reports: Callable[[str], int],
) -> None:
    customer = person()
    message_id = f"SM{uuid.uuid4().hex}"
    first = sms(channels_client, customer.phone, "MATDIEN", message_id)
    again = sms(channels_client, customer.phone, "MATDIEN", message_id)
    assert again == first
    assert count_reports(f"sms:{message_id}") == 1


def test_twilio_form_encoded_body_works(
    channels_client: TestClient, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person()
    response = channels_client.post(
        SMS_URL,
        data={"From": customer.phone, "Body": f"MATDIEN {customer.account}", "MessageSid": "SM1a"},
    )
    assert response.status_code == 200
    row = report_row(response.json()["ticket"])
    assert (row["channel"], row["premise"], row["idempotency_key"]) == (
        "sms",
        customer.premise,
        "sms:SM1a",
    )


def test_webhook_body_without_sender_is_422(channels_client: TestClient) -> None:
    assert channels_client.post(SMS_URL, json={"text": "MATDIEN"}).status_code == 422
    assert channels_client.post(SMS_URL, content=b"{not json").status_code == 422


def test_sender_over_the_rate_limit_gets_a_polite_200(
    channels_database: str,
    channels_settings: Settings,
    gateway_headers: dict[str, str],
    person: PersonMaker,
) -> None:
    strict = channels_settings.model_copy(update={"rate_limit_per_phone": "1/hour"})
    customer = person(language="vi")
    with TestClient(create_app(channels_database, strict), headers=gateway_headers) as client:
        sms(client, customer.phone, "MATDIEN")
        answer = sms(client, customer.phone, "MATDIEN lan nua")
    assert answer["ticket"] is None
    assert answer["reply"].startswith("Ban da gui nhieu bao cao. Vui long thu lai sau")


@pytest.mark.parametrize("hazard", ["NGUYHIEM", "day dien dut truoc nha"])
def test_hazard_past_the_rate_limit_is_filed_with_the_safety_advice(
    channels_database: str,
    channels_settings: Settings,
    gateway_headers: dict[str, str],
    person: PersonMaker,
    hazard: str,
) -> None:
    strict = channels_settings.model_copy(update={"rate_limit_per_phone": "1/hour"})
    customer = person(language="vi")
    with TestClient(create_app(channels_database, strict), headers=gateway_headers) as client:
        sms(client, customer.phone, "MATDIEN")
        assert sms(client, customer.phone, "MATDIEN lan nua")["ticket"] is None
        answer = sms(client, customer.phone, hazard)
    assert answer["ticket"] is not None
    assert "tranh xa it nhat 10 met" in answer["reply"]


# Status and help.


def test_trangthai_with_ticket_tells_the_status_in_vietnamese(
    channels_client: TestClient, person: PersonMaker
) -> None:
    customer = person(language="vi")
    ticket = sms(channels_client, customer.phone, "MATDIEN")["ticket"]
    answer = sms(channels_client, customer.phone, f"trang thai {ticket}")
    assert answer["reply"] == f"Ma so {ticket}: dang xu ly."


def test_status_with_ticket_in_lower_case_tells_the_status_in_english(
    channels_client: TestClient, person: PersonMaker
) -> None:
    customer = person(language="en")
    ticket = sms(channels_client, customer.phone, "MATDIEN")["ticket"]
    answer = sms(channels_client, customer.phone, f"STATUS {ticket.replace('-', '').lower()}")
    assert answer["reply"] == f"Ticket {ticket}: we are working on it."


def test_status_of_a_ticket_from_another_phone_tells_only_that_it_was_received(
    channels_client: TestClient, person: PersonMaker, unknown_phone: Callable[[], str]
) -> None:
    ticket = sms(channels_client, person().phone, "MATDIEN")["ticket"]
    answer = sms(channels_client, unknown_phone(), f"STATUS {ticket}")
    assert answer["reply"] == (
        f"Ticket {ticket}: received. For its progress, send STATUS from the phone that reported it."
    )


def test_status_without_ticket_is_that_of_the_senders_latest_report(
    channels_client: TestClient, unknown_phone: Callable[[], str]
) -> None:
    phone = unknown_phone()
    ticket = sms(channels_client, phone, "OUT")["ticket"]
    answer = sms(channels_client, phone, "STATUS")
    assert answer["reply"] == f"Ticket {ticket}: an agent is confirming the address."


def test_status_of_an_unknown_ticket_says_so(
    channels_client: TestClient, unknown_phone: Callable[[], str]
) -> None:
    answer = sms(channels_client, unknown_phone(), "TRANGTHAI 010101-ZZZZZ")
    assert answer["reply"] == "Khong tim thay ma so 010101-ZZZZZ."


@pytest.mark.parametrize(
    ("text", "start", "alerts"),
    [
        ("HUONGDAN", "Bao mat dien: MATDIEN", ("DANGKY <ma KH>", "HUY")),
        ("help", "Report an outage: OUT", ("REG <account>", "STOP")),
    ],
)
def test_help_keyword_explains_the_syntax_and_the_alerts_keywords_in_its_language(
    channels_client: TestClient,
    unknown_phone: Callable[[], str],
    text: str,
    start: str,
    alerts: tuple[str, str],
) -> None:
    answer = sms(channels_client, unknown_phone(), text)
    assert answer["reply"].startswith(start)
    assert all(keyword in answer["reply"] for keyword in alerts)
    assert " / " not in answer["reply"]
    assert_one_gsm7_sms(answer["reply"])


def test_unparseable_text_gets_the_syntax_in_both_languages(
    channels_client: TestClient, unknown_phone: Callable[[], str]
) -> None:
    answer = sms(channels_client, unknown_phone(), "Alo, nhà tôi mất điện?!")
    assert "MATDIEN <ma KH>" in answer["reply"] and "OUT <account>" in answer["reply"]
    assert answer["ticket"] is None
    assert_one_gsm7_sms(answer["reply"])


def test_every_reply_fits_one_gsm7_sms(
    channels_client: TestClient, person: PersonMaker, unknown_phone: Callable[[], str]
) -> None:
    vi, en = person(language="vi"), person(language="en")
    texts = [
        (vi.phone, "MATDIEN"),
        (vi.phone, "MATDIEN again"),
        (en.phone, "OUT"),
        (unknown_phone(), "OUT no idea"),
        (unknown_phone(), "MATDIEN cột điện đổ"),
        (vi.phone, "TRANGTHAI"),
        (en.phone, "STATUS 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"),
        (unknown_phone(), "TRANGTHAI"),
        ("VIETTEL", "MATDIEN"),
        (unknown_phone(), "xin chào"),
    ]
    for sender, text in texts:
        assert_one_gsm7_sms(sms(channels_client, sender, text)["reply"])


def test_status_of_a_duplicate_does_not_tell_the_ticket_it_joins(
    channels_client: TestClient, person: PersonMaker, unknown_phone: Callable[[], str]
) -> None:
    customer = person(language="en")
    first = sms(channels_client, customer.phone, "OUT")["ticket"]
    stranger = unknown_phone()
    second = sms(channels_client, stranger, f"OUT {customer.account}")["ticket"]
    answer = sms(channels_client, stranger, f"STATUS {second}")
    assert answer["reply"] == f"Ticket {second} joins an earlier report, we are working on it."
    assert first not in answer["reply"]


# Hazards.

HazardFinder = Callable[[str], Any]
"""The `hazard_incident` fixture: the hazard incident a ticket's report is on, or None."""


@pytest.mark.parametrize(
    ("language", "text", "hazard", "safety"),
    [
        ("vi", "NGUYHIEM {account} dây điện đứt trước nhà", "wires_down", "Da nhan bao nguy"),
        ("vi", "nguy hiem {account} day dien dut truoc nha", "wires_down", "Da nhan bao nguy"),
        ("en", "HAZARD {account} wires down in front of the house", "wires_down", "Hazard report"),
        ("vi", "MATDIEN {account} cột điện bốc cháy", "fire", "Da nhan bao nguy"),
        ("en", "OUT {account} the pole is sparking", "fire", "Hazard report"),
    ],
)
def test_hazard_by_sms_opens_its_hazard_incident_before_the_reply(
    channels_client: TestClient,
    person: PersonMaker,
    hazard_incident: HazardFinder,
    language: str,
    text: str,
    hazard: str,
    safety: str,
) -> None:
    """The webhook opens the hazard incident in its own request's transaction
    (`_with_hazard_opened` in outage/api/channels.py), so it is committed with the report
    before the reply goes back: no engine runs here, and it is read right after the reply."""
    customer = person(language=language)
    answer = sms(channels_client, customer.phone, text.format(account=customer.account))
    assert answer["reply"].startswith(safety)
    found = hazard_incident(answer["ticket"])
    assert found is not None
    assert (found.hazard, found.status, found.premise) == (hazard, "predicted", customer.premise)


@pytest.mark.parametrize(
    ("text", "safety"),
    [
        ("Dây điện bị đứt rơi xuống đường", "Da nhan bao nguy hiem"),
        ("day dien bi dut roi xuong duong", "Da nhan bao nguy hiem"),
        ("There is a wire down outside my house", "Hazard report received"),
    ],
)
def test_hazard_words_without_a_keyword_are_a_hazard_report(
    channels_client: TestClient,
    unknown_phone: Callable[[], str],
    report_row: RowFinder,
    hazard_incident: HazardFinder,
    text: str,
    safety: str,
) -> None:
    answer = sms(channels_client, unknown_phone(), text)
    row = report_row(answer["ticket"])
    assert (row["hazard"], row["status"]) == ("wires_down", "needs_agent")
    assert hazard_incident(answer["ticket"]) is not None
    assert answer["reply"].startswith(safety)
    assert "10 m" in answer["reply"]
    assert_one_gsm7_sms(answer["reply"])


def test_hazard_reply_is_the_report_forms_safety_advice(
    channels_client: TestClient, unknown_phone: Callable[[], str]
) -> None:
    answer = sms(channels_client, unknown_phone(), "HAZARD wire down")
    assert answer["reply"] == (
        f"Hazard report received, ticket {answer['ticket']}. If wires are down or there is a "
        "fire: stay at least 10 metres away and keep others away."
    )


def test_hazard_keyword_without_a_named_hazard_files_wires_down(
    channels_client: TestClient, unknown_phone: Callable[[], str], report_row: RowFinder
) -> None:
    answer = sms(channels_client, unknown_phone(), "NGUYHIEM")
    assert report_row(answer["ticket"])["hazard"] == "wires_down"


@pytest.mark.parametrize(
    "text",
    [
        "MATDIEN {account} mất điện từ 8h, không cháy",
        "OUT {account} no power, no fire, no sparks",
        "OUT {account} lights out since noon",
    ],
)
def test_outage_words_open_no_hazard_incident(
    channels_client: TestClient,
    person: PersonMaker,
    report_row: RowFinder,
    hazard_incident: HazardFinder,
    text: str,
) -> None:
    customer = person()
    answer = sms(channels_client, customer.phone, text.format(account=customer.account))
    assert report_row(answer["ticket"])["hazard"] is None
    assert hazard_incident(answer["ticket"]) is None


def test_free_text_without_hazard_words_still_gets_the_syntax(
    channels_client: TestClient, unknown_phone: Callable[[], str]
) -> None:
    answer = sms(channels_client, unknown_phone(), "Alo, chạy máy phát được không?")
    assert answer["ticket"] is None


def test_retried_hazard_sms_opens_one_hazard_incident(
    channels_client: TestClient, person: PersonMaker, hazard_incident: HazardFinder
) -> None:
    customer = person()
    message_id = uuid.uuid4().hex
    first = sms(channels_client, customer.phone, "HAZARD fire", message_id)
    again = sms(channels_client, customer.phone, "HAZARD fire", message_id)
    assert first == again
    assert hazard_incident(first["ticket"]) is not None  # one row, or .one_or_none() raises
