"""The SMS and IVR parsers and the SMS, IVR and Zalo webhooks fuzzed: whatever a gateway
(or Zalo, signing it) sends, the answer is a reply or a 4xx with a reason, never a server
error."""

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from outage.intake.channels import zalo
from outage.intake.channels.sms import SmsCommand, parse
from tests.conftest import FUZZ

from .conftest import ZALO_APP_ID, ZALO_OA_SECRET

WORDS = st.sampled_from(
    ["MATDIEN", "mất điện", "OUT", "TRANGTHAI", "STATUS", "HELP", "PA01", "0912345678", ""]
)
SMS_TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=8).map(" ".join),
)
"""Any text, and texts that start like commands."""

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
"""Any JSON value (NaN and infinities included, as Python's encoder writes them)."""


def _field(names: list[str]) -> Any:
    return st.dictionaries(st.sampled_from(names), JSON | st.text(), max_size=len(names))


@FUZZ
@given(SMS_TEXT)
def test_any_sms_text_parses_to_a_command(text: str) -> None:
    assert isinstance(parse(text), SmsCommand)


@FUZZ
@given(st.one_of(JSON, _field(["from", "From", "text", "Body", "message_id", "MessageSid"])))
@example({"from": "0912345678", "text": "MATDIEN \ud800"})
@example({"from": "0912345678\x00", "text": "OUT PA01\x00"})
@example({"from": "0912345678", "text": "STATUS", "message_id": "\udfff"})
def test_the_sms_webhook_never_answers_a_server_error_to_json(
    channels_client: TestClient, body: Any
) -> None:
    response = channels_client.post(
        "/api/v1/channels/sms",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text[:500]


@FUZZ
@given(st.dictionaries(st.sampled_from(["From", "Body", "MessageSid", "x"]), SMS_TEXT))
def test_the_sms_webhook_never_answers_a_server_error_to_a_form(
    channels_client: TestClient, form: dict[str, str]
) -> None:
    response = channels_client.post("/api/v1/channels/sms", data=form)
    assert response.status_code < 500, response.text[:500]


@FUZZ
@given(st.one_of(JSON, _field(["call_id", "caller", "digits", "language"])))
@example({"call_id": "\ud800", "caller": "0912345678", "digits": "1"})
@example({"call_id": "c-1", "caller": "\x00", "digits": "1"})
def test_the_ivr_webhook_never_answers_a_server_error(
    channels_client: TestClient, body: Any
) -> None:
    response = channels_client.post(
        "/api/v1/channels/ivr",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text[:500]


def test_the_sms_webhook_refuses_deep_nesting_with_a_4xx(channels_client: TestClient) -> None:
    deep = "[" * 30_000 + "]" * 30_000
    response = channels_client.post(
        "/api/v1/channels/sms", content=deep, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500


ZALO_EVENTS = st.sampled_from(
    ["user_send_text", "user_send_location", "user_send_image", "follow", "unfollow", "x\x00"]
)
ZALO_MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "msg_id": JSON | st.text(max_size=20),
        "text": SMS_TEXT,
        "attachments": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "type": JSON,
                    "payload": st.fixed_dictionaries(
                        {},
                        optional={
                            "url": JSON | st.text(max_size=30),
                            "coordinates": _field(["latitude", "longitude"]),
                        },
                    ),
                },
            ),
            max_size=3,
        ),
    },
)
ZALO_EVENT = st.fixed_dictionaries(
    {"app_id": st.just(ZALO_APP_ID)},
    optional={
        "event_name": ZALO_EVENTS | JSON,
        "timestamp": st.integers() | st.text(max_size=16) | JSON,
        "sender": _field(["id"]),
        "follower": _field(["id"]),
        "recipient": _field(["id"]),
        "message": ZALO_MESSAGE | JSON,
    },
)
"""Zalo's events, their fields filled with anything."""


@FUZZ
@given(ZALO_EVENT)
@example(
    {
        "app_id": ZALO_APP_ID,
        "event_name": "user_send_location",
        "timestamp": "1700000000000",
        "sender": {"id": "84\x00"},
        "message": {"attachments": [{"payload": {"coordinates": {"latitude": "nan"}}}]},
    }
)
@example(
    {
        "app_id": ZALO_APP_ID,
        "event_name": "user_send_text",
        "timestamp": 10**30,
        "sender": {"id": "84"},
        "message": {"msg_id": "\udfff", "text": "NGUYHIEM \ud800"},
    }
)
def test_the_zalo_webhook_never_answers_a_server_error_to_a_signed_event(
    zalo_client: TestClient, event: dict[str, Any]
) -> None:
    raw = json.dumps(event).encode()
    mac = zalo.signature(
        app_id=ZALO_APP_ID,
        body=raw,
        timestamp=str(event.get("timestamp", "")),
        secret=ZALO_OA_SECRET,
    )
    response = zalo_client.post(
        "/api/v1/channels/zalo",
        content=raw,
        headers={zalo.SIGNATURE_HEADER: mac, "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text[:500]
