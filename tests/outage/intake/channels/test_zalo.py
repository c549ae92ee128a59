"""The Zalo Official Account webhook: signed events only, each acted on once; the SMS
keywords, shared locations and images; replies queued and sent through Zalo's OA API."""

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from outage.db import session_factory, session_scope
from outage.incidents.changes import open_incident, set_etr
from outage.incidents.evidence import EvidenceRef
from outage.intake.channels import zalo
from outage.intake.models import Report
from outage.media.enums import PhotoSource
from outage.media.service import photos_of
from outage.notifications.delivery import Worker
from outage.notifications.sink import HttpSink
from outage.settings import Settings

from .conftest import ZALO_APP_ID, ZALO_OA_SECRET, QueuedReply

ZALO_URL = "/api/v1/channels/zalo"
OA_ID = "579745863508352884"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")

PersonMaker = Callable[..., Any]
RowFinder = Callable[[str], dict[str, Any]]
Replies = Callable[[str], list[QueuedReply]]
HazardFinder = Callable[[str], Any]


def new_user() -> str:
    return f"84{uuid.uuid4().int % 10**16:016d}"


def event(
    name: str,
    user: str,
    *,
    text: str | None = None,
    msg_id: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An event as Zalo's webhook posts it (its timestamp a string of milliseconds)."""
    moment = at or datetime.now(UTC)
    body: dict[str, Any] = {
        "app_id": ZALO_APP_ID,
        "user_id_by_app": "552177279717587730",
        "event_name": name,
        "timestamp": str(int(moment.timestamp() * 1000)),
    }
    if name in ("follow", "unfollow"):
        body |= {"oa_id": OA_ID, "follower": {"id": user}, "source": "oa_profile"}
        return body
    message: dict[str, Any] = {"msg_id": msg_id or uuid.uuid4().hex, "text": text or ""}
    if attachments is not None:
        message["attachments"] = attachments
    return body | {"sender": {"id": user}, "recipient": {"id": OA_ID}, "message": message}


def post(client: TestClient, body: dict[str, Any], secret: str = ZALO_OA_SECRET) -> httpx.Response:
    """Post an event signed as Zalo signs it (with `secret`, the OA's unless told)."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    mac = zalo.signature(
        app_id=body["app_id"], body=raw, timestamp=str(body["timestamp"]), secret=secret
    )
    headers = {zalo.SIGNATURE_HEADER: mac, "Content-Type": "application/json"}
    return client.post(ZALO_URL, content=raw, headers=headers)


def accepted(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = post(client, body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["outcome"] == "accepted"
    return answer


def stored_events(database: str, key: str) -> int:
    with session_scope(session_factory(database)) as session:
        found = session.scalar(
            text("SELECT count(*) FROM zalo_events WHERE event_key = :key"), {"key": key}
        )
        return int(found or 0)


def deliver(database: str, settings: Settings, until: Callable[[], bool]) -> None:
    """Run a delivery worker until `until` holds (or fail after a while)."""
    worker = Worker(session_factory(database), settings)
    deadline = time.monotonic() + 20
    while not until():
        assert time.monotonic() < deadline, "the worker never got there"
        worker.run_once()
        time.sleep(0.05)


# Signatures and bodies.


def test_a_report_is_filed_once_when_zalo_delivers_it_twice(
    zalo_client: TestClient,
    person: PersonMaker,
    report_row: RowFinder,
    count_reports: Callable[[str], int],
    zalo_replies: Replies,
) -> None:
    customer, user = person(language="vi"), new_user()
    sent_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    body = event("user_send_text", user, text=f"MATDIEN {customer.account}", at=sent_at)
    first = accepted(zalo_client, body)
    again = post(zalo_client, body)
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate", "ticket": None}
    assert count_reports(f"zalo:{body['message']['msg_id']}") == 1
    row = report_row(first["ticket"])
    assert (row["channel"], row["zalo_user_id"], row["phone"]) == ("zalo", user, None)
    assert (row["match_method"], row["premise"]) == ("account", customer.premise)
    assert row["received_at"] == sent_at
    assert [r.text for r in zalo_replies(user)] == [
        f"Đã nhận báo mất điện. Mã số: {first['ticket']}"
    ]


@pytest.mark.parametrize("secret", ["not-the-oa-secret", ""])
def test_a_wrong_signature_is_refused_and_nothing_stored(
    zalo_client: TestClient, channels_database: str, zalo_replies: Replies, secret: str
) -> None:
    user = new_user()
    body = event("user_send_text", user, text="NGUYHIEM dây điện đứt")
    response = post(zalo_client, body, secret=secret)
    assert response.status_code == 403
    assert zalo.SIGNATURE_HEADER in response.json()["detail"]
    assert stored_events(channels_database, f"zalo:{body['message']['msg_id']}") == 0
    assert zalo_replies(user) == []


def test_an_unsigned_event_is_refused(zalo_client: TestClient) -> None:
    body = event("user_send_text", new_user(), text="MATDIEN")
    assert zalo_client.post(ZALO_URL, json=body).status_code == 403


def test_a_body_changed_after_signing_is_refused(zalo_client: TestClient) -> None:
    body = event("user_send_text", new_user(), text="MATDIEN")
    raw = json.dumps(body).encode()
    mac = zalo.signature(
        app_id=ZALO_APP_ID, body=raw, timestamp=body["timestamp"], secret=ZALO_OA_SECRET
    )
    tampered = raw.replace(b"MATDIEN", b"HAZARD!")
    response = zalo_client.post(ZALO_URL, content=tampered, headers={zalo.SIGNATURE_HEADER: mac})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "change",
    [
        {"sender": None},
        {"timestamp": "yesterday"},
        {"message": {"msg_id": "m-1", "text": "x" * 10_001}},
        {"event_name": "user_send_location"},
        {"event_name": "user_send_image"},
        {"app_id": None},
    ],
)
def test_a_malformed_event_is_refused_with_422_and_nothing_stored(
    zalo_client: TestClient, channels_database: str, change: dict[str, Any]
) -> None:
    body = event("user_send_text", new_user(), text="MATDIEN", msg_id=uuid.uuid4().hex)
    key = f"zalo:{body['message']['msg_id']}"
    body = {k: v for k, v in (body | change).items() if v is not None}
    raw = json.dumps(body).encode()
    mac = zalo.signature(
        app_id=body.get("app_id", ""),
        body=raw,
        timestamp=str(body["timestamp"]),
        secret=ZALO_OA_SECRET,
    )
    response = zalo_client.post(ZALO_URL, content=raw, headers={zalo.SIGNATURE_HEADER: mac})
    assert response.status_code == 422, response.text
    assert stored_events(channels_database, key) == 0


def test_a_body_that_is_not_json_is_refused_with_422(zalo_client: TestClient) -> None:
    response = zalo_client.post(
        ZALO_URL, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_an_event_of_another_app_is_refused(zalo_client: TestClient) -> None:
    body = event("user_send_text", new_user(), text="MATDIEN") | {"app_id": "1111"}
    assert post(zalo_client, body).status_code == 403


def test_the_channel_is_off_without_the_oa_secret(channels_client: TestClient) -> None:
    response = post(channels_client, event("user_send_text", new_user(), text="MATDIEN"))
    assert response.status_code == 404
    assert "secret" in response.json()["detail"]


# What a message does.


def test_a_status_question_is_answered_through_the_zalo_api_with_the_incidents_progress(
    zalo_client: TestClient,
    zalo_api: HttpSink,
    zalo_settings: Settings,
    channels_database: str,
    person: PersonMaker,
) -> None:
    customer, user = person(language="vi"), new_user()
    ticket = accepted(
        zalo_client, event("user_send_text", user, text=f"MATDIEN {customer.account}")
    )["ticket"]
    etr = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    with session_scope(session_factory(channels_database)) as session:
        report_id = session.scalar(select(Report.id).where(Report.ticket == ticket))
        assert report_id is not None
        incident = open_incident(
            session,
            account=customer.account,
            confidence=0.9,
            customers_affected=1,
            started_at=datetime.now(UTC) - timedelta(minutes=20),
            evidence=[EvidenceRef.report(report_id)],
            reason="a Zalo report",
        )
        set_etr(session, incident, etr=etr)
    accepted(zalo_client, event("user_send_text", user, text="trạng thái"))

    def answered() -> bool:
        return any(m["to"] == user and "Dự kiến" in m["message"] for m in _sent(zalo_api))

    deliver(channels_database, zalo_settings, answered)
    status = next(
        m["message"] for m in _sent(zalo_api) if m["to"] == user and "Dự kiến" in m["message"]
    )
    assert status.startswith(f"Mã số {ticket}: chúng tôi đã biết sự cố mất điện")
    assert f"lúc {etr.astimezone(HANOI):%H:%M}" in status


def _sent(api: HttpSink) -> list[dict[str, Any]]:
    return list(api.received().values())


def test_a_status_question_about_someone_elses_ticket_tells_only_that_it_was_received(
    zalo_client: TestClient, person: PersonMaker, zalo_replies: Replies
) -> None:
    customer, stranger = person(), new_user()
    ticket = accepted(
        zalo_client, event("user_send_text", new_user(), text=f"OUT {customer.account}")
    )["ticket"]
    accepted(zalo_client, event("user_send_text", stranger, text=f"STATUS {ticket}"))
    assert zalo_replies(stranger)[-1].text.startswith(f"Ticket {ticket}: received.")


@pytest.mark.parametrize(
    ("words", "safety"),
    [
        ("Dây điện bị đứt rơi xuống đường", "Đã nhận báo nguy hiểm"),
        ("day dien bi dut roi xuong duong", "Đã nhận báo nguy hiểm"),
        ("There is a wire down outside my house", "Hazard report received"),
    ],
)
def test_hazard_words_open_a_hazard_incident_at_once_and_queue_the_safety_advice(
    zalo_client: TestClient,
    report_row: RowFinder,
    hazard_incident: HazardFinder,
    zalo_replies: Replies,
    words: str,
    safety: str,
) -> None:
    user = new_user()
    ticket = accepted(zalo_client, event("user_send_text", user, text=words))["ticket"]
    assert report_row(ticket)["hazard"] == "wires_down"
    assert hazard_incident(ticket) is not None
    [reply] = zalo_replies(user)
    assert reply.text.startswith(safety) and reply.safety
    assert "10 m" in reply.text


def test_a_shared_location_files_a_report_placed_there(
    zalo_client: TestClient,
    person: PersonMaker,
    premise_point: Callable[[str], tuple[float, float]],
    premise_alone: Callable[[str], bool],
    report_row: RowFinder,
    zalo_replies: Replies,
) -> None:
    user = new_user()
    customer = person()
    while not premise_alone(customer.premise):  # a shared point names either premise
        customer = person()
    lat, lon = premise_point(customer.premise)
    place = {"coordinates": {"latitude": str(lat), "longitude": str(lon)}}
    body = event("user_send_location", user, attachments=[{"type": "location", "payload": place}])
    ticket = accepted(zalo_client, body)["ticket"]
    row = report_row(ticket)
    assert (row["match_method"], row["premise"], row["zalo_user_id"]) == (
        "gps_premise",
        customer.premise,
        user,
    )
    assert ticket in zalo_replies(user)[0].text


def test_an_image_is_kept_as_a_photo_of_the_senders_report(
    zalo_client: TestClient,
    channels_database: str,
    person: PersonMaker,
    zalo_replies: Replies,
    photo_server: str,
) -> None:
    customer, user = person(language="en"), new_user()
    ticket = accepted(zalo_client, event("user_send_text", user, text=f"OUT {customer.account}"))[
        "ticket"
    ]
    url = f"{photo_server}/photo.jpg"
    image = [{"type": "image", "payload": {"thumbnail": url, "url": url}}]
    accepted(zalo_client, event("user_send_image", user, attachments=image))
    with session_scope(session_factory(channels_database)) as session:
        report_id = session.scalar(select(Report.id).where(Report.ticket == ticket))
        assert report_id is not None
        assert zalo.report_images(session, report_id) == [url]
        reports = select(Report.id).where(Report.id == report_id)
        assert [p.source for p in photos_of(session, report_ids=reports)] == [PhotoSource.ZALO]
    assert zalo_replies(user)[-1].text.endswith(f"ticket {ticket}.")


@pytest.mark.parametrize(("name", "kind"), [("user_send_link", "link"), ("user_send_file", "file")])
def test_a_link_or_file_a_user_sends_is_not_fetched_as_a_photo(
    zalo_client: TestClient,
    channels_database: str,
    person: PersonMaker,
    photo_server: str,
    name: str,
    kind: str,
) -> None:
    customer, user = person(language="en"), new_user()
    ticket = accepted(zalo_client, event("user_send_text", user, text=f"OUT {customer.account}"))[
        "ticket"
    ]
    sent = [{"type": kind, "payload": {"url": f"{photo_server}/photo.jpg"}}]
    accepted(zalo_client, event(name, user, attachments=sent))
    with session_scope(session_factory(channels_database)) as session:
        reports = select(Report.id).where(Report.ticket == ticket)
        report_id = session.scalar(reports)
        assert report_id is not None
        assert zalo.report_images(session, report_id) == []
        assert photos_of(session, report_ids=reports) == []


def test_a_new_follower_is_welcomed_with_the_keywords(
    zalo_client: TestClient, zalo_replies: Replies
) -> None:
    user = new_user()
    accepted(zalo_client, event("follow", user))
    [welcome] = zalo_replies(user)
    assert "MATDIEN" in welcome.text and "OUT <account>" in welcome.text


def test_a_failing_zalo_api_gets_the_reply_retried_then_dead_lettered_with_its_reason(
    zalo_client: TestClient,
    zalo_api: HttpSink,
    zalo_settings: Settings,
    channels_database: str,
    zalo_replies: Replies,
) -> None:
    user = new_user()
    zalo_api.fail(seconds=60)
    try:
        accepted(zalo_client, event("user_send_text", user, text="help"))
        deliver(channels_database, zalo_settings, lambda: zalo_replies(user)[0].status == "dead")
    finally:
        zalo_api.fail()
    [dead] = zalo_replies(user)
    assert dead.attempts == zalo_settings.notify_max_attempts
    assert dead.last_error is not None and "told to fail" in dead.last_error
    assert not any(m["to"] == user for m in _sent(zalo_api))


def test_an_event_dated_beyond_the_horizon_is_filed_at_its_arrival(
    zalo_client: TestClient, person: PersonMaker, report_row: RowFinder
) -> None:
    customer = person()
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    body = event("user_send_text", new_user(), text=f"OUT {customer.account}", at=long_ago)
    ticket = accepted(zalo_client, body)["ticket"]
    assert report_row(ticket)["received_at"] > datetime.now(UTC) - timedelta(minutes=5)


@pytest.mark.parametrize(
    ("words", "language"), [("DANGKY {}", "vi"), ("đăng ký {}", "vi"), ("REG {}", "en")]
)
def test_a_zalo_user_subscribes_to_an_accounts_alerts_with_a_keyword(
    words: str,
    language: str,
    zalo_client: TestClient,
    channels_database: str,
    person: PersonMaker,
    zalo_replies: Replies,
) -> None:
    customer, user = person(), new_user()
    accepted(zalo_client, event("user_send_text", user, text=words.format(customer.account)))
    assert _subscriptions(channels_database, user) == [(customer.account, language, True, False)]
    reply = zalo_replies(user)[-1]
    assert (reply.language, customer.account in reply.text) == (language, True)


def test_a_zalo_user_stops_their_alerts_with_huy(
    zalo_client: TestClient, channels_database: str, person: PersonMaker, zalo_replies: Replies
) -> None:
    customer, user = person(), new_user()
    accepted(zalo_client, event("user_send_text", user, text=f"REG {customer.account}"))
    accepted(zalo_client, event("user_send_text", user, text="Hủy"))
    assert _subscriptions(channels_database, user) == [(customer.account, "en", True, True)]
    assert zalo_replies(user)[-1].language == "vi"


def _subscriptions(database: str, user: str) -> list[tuple[str, str, bool, bool]]:
    """A Zalo user's subscriptions: account, language, verified, stopped."""
    with session_scope(session_factory(database)) as session:
        rows = session.execute(
            text(
                "SELECT c.account, s.language, s.verified_at IS NOT NULL AS verified,"
                " s.stopped_at IS NOT NULL AS stopped FROM subscriptions s"
                " JOIN customers c ON c.id = s.customer_id"
                " WHERE s.channel = 'zalo' AND s.address = :user ORDER BY s.id"
            ),
            {"user": user},
        )
        return [(r.account, r.language, r.verified, r.stopped) for r in rows]
