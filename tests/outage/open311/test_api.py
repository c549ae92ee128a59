"""The Open311 GeoReport v2 API: discovery, the service list and service definitions, and
service requests (POST and GET), stored as our reports or customer-care requests and shown
without personal data; in JSON and XML."""

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from outage.auth.enums import Scope
from outage.care.enums import RequestState, RequestType
from outage.care.models import ServiceRequest
from outage.db import session_factory, session_scope
from outage.grid.models import Premise
from outage.intake.enums import Channel, Hazard, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.media.enums import PhotoSource
from outage.media.models import Photo, PhotoFetch
from outage.open311.catalogue import CARE_CODES
from outage.open311.service import w3c
from tests.conftest import Credentials
from tests.outage.media import pictures

from .conftest import API_KEY, JURISDICTION, Open311Customer

CARE = {
    "new_connection",
    "meter_relocation",
    "change_of_contract_holder",
    "change_of_tariff_quota",
    "meter_check",
    "billing_question",
    "electricity_safety",
    "service_feedback",
}


def test_discovery_names_the_endpoint_and_its_formats(open311_client: TestClient) -> None:
    body = open311_client.get("/open311/v2/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}

    response = open311_client.get("/open311/v2/discovery.xml")
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.content)
    assert root.tag == "discovery"
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_service_list_has_outages_and_customer_care(open311_client: TestClient) -> None:
    response = open311_client.get("/open311/v2/services.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    services = {s["service_code"]: s for s in response.json()}
    assert {"outage", "hazard"} | CARE == set(services) and set(CARE_CODES) == CARE
    assert services["outage"]["service_name"] == "Power outage"
    assert services["hazard"]["metadata"] is True
    assert {services[code]["group"] for code in CARE} == {"customer care"}
    assert all(s["type"] == "realtime" for s in services.values())


def test_service_list_in_vietnamese(open311_client: TestClient) -> None:
    services = open311_client.get("/open311/v2/services.json", params={"lang": "vi"}).json()
    names = {s["service_code"]: s["service_name"] for s in services}
    assert names["outage"] == "Mất điện"
    assert names["meter_check"] == "Kiểm tra công tơ"


def test_service_list_as_xml(open311_client: TestClient) -> None:
    response = open311_client.get(
        "/open311/v2/services.xml", params={"jurisdiction_id": JURISDICTION, "lang": "vi"}
    )
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.iterfind("service")]
    assert codes[:2] == ["outage", "hazard"]
    outage = root.find("service")
    assert outage is not None
    assert outage.findtext("metadata") == "true"
    assert outage.findtext("service_name") == "Mất điện"


def test_hazard_definition_lists_our_hazards(open311_client: TestClient) -> None:
    body = open311_client.get("/open311/v2/services/hazard.json").json()
    assert body["service_code"] == "hazard"
    hazard_type = body["attributes"][0]
    assert hazard_type["code"] == "hazard_type"
    assert hazard_type["datatype"] == "singlevaluelist"
    assert hazard_type["required"] is True
    assert hazard_type["variable"] is True
    assert [v["key"] for v in hazard_type["values"]] == [h.value for h in Hazard]


def test_tariff_quota_definition_as_xml(open311_client: TestClient) -> None:
    response = open311_client.get("/open311/v2/services/change_of_tariff_quota.xml")
    root = ET.fromstring(response.content)
    assert root.tag == "service_definition"
    attributes = {a.findtext("code"): a for a in root.iterfind("attributes/attribute")}
    assert set(attributes) == {"customer_account", "household_count"}
    assert attributes["household_count"].findtext("datatype") == "number"
    assert attributes["household_count"].findtext("required") == "true"
    assert [a.findtext("order") for a in root.iterfind("attributes/attribute")] == ["1", "2"]


def test_unknown_service_is_a_404_in_the_spec_format(open311_client: TestClient) -> None:
    response = open311_client.get("/open311/v2/services/teapot.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "unknown service_code 'teapot'"}]

    response = open311_client.get("/open311/v2/services/teapot.xml")
    assert response.status_code == 404
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert "teapot" in (root.findtext("error/description") or "")


def test_unknown_format_is_refused(open311_client: TestClient) -> None:
    response = open311_client.get("/open311/v2/services.html")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


def test_another_jurisdiction_is_not_found(open311_client: TestClient) -> None:
    response = open311_client.get(
        "/open311/v2/services.json", params={"jurisdiction_id": "elsewhere.example"}
    )
    assert response.status_code == 404
    assert response.json() == [
        {"code": 404, "description": "jurisdiction_id 'elsewhere.example' not found"}
    ]


NewCustomer = Callable[[], Open311Customer]
Count = Callable[[], int]


def _post(client: TestClient, fmt: str = "json", **form: Any) -> Any:
    return client.post(f"/open311/v2/requests.{fmt}", data={"api_key": API_KEY, **form})


def _stored(database_url: str, ticket: str) -> Report:
    with session_scope(session_factory(database_url)) as session:
        report = session.scalar(select(Report).where(Report.ticket == ticket))
        assert report is not None
        session.expunge(report)
        return report


def _stored_request(database_url: str, ticket: str) -> ServiceRequest:
    with session_scope(session_factory(database_url)) as session:
        request = session.scalar(select(ServiceRequest).where(ServiceRequest.ticket == ticket))
        assert request is not None
        session.expunge(request)
        return request


def _premise_id(database_url: str, ref: str) -> int:
    with session_scope(session_factory(database_url)) as session:
        found = session.scalar(select(Premise.id).where(Premise.ref == ref))
        assert found is not None
        return found


def _transformer_id(database_url: str, premise_ref: str) -> int:
    with session_scope(session_factory(database_url)) as session:
        found = session.scalar(select(Premise.transformer_id).where(Premise.ref == premise_ref))
        assert found is not None
        return found


def test_outage_by_gps_becomes_a_report(
    open311_client: TestClient, open311_customer: NewCustomer, grid_database: str
) -> None:
    customer = open311_customer()
    response = _post(
        open311_client,
        service_code="outage",
        lat=str(customer.lat),
        long=str(customer.lon),
        jurisdiction_id=JURISDICTION,
        description="Mất điện từ 8 giờ sáng",
    )
    assert response.status_code == 201
    [receipt] = response.json()
    assert set(receipt) == {"service_request_id", "service_notice", "account_id"}
    assert receipt["account_id"] is None
    ticket = receipt["service_request_id"]
    assert ticket in receipt["service_notice"]

    report = _stored(grid_database, ticket)
    assert report.channel is Channel.OPEN311
    assert report.service_code == "outage"
    assert report.status is ReportStatus.RECEIVED
    assert report.match_method is MatchMethod.GPS_PREMISE
    # Premises can share a GPS point; they then share the transformer too.
    assert report.transformer_id == _transformer_id(grid_database, customer.premise)
    assert report.description == "Mất điện từ 8 giờ sáng"

    shown = open311_client.get(f"/open311/v2/requests/{ticket}.json").json()
    assert len(shown) == 1
    assert shown[0]["service_request_id"] == ticket
    assert shown[0]["status"] == "open"
    assert shown[0]["service_code"] == "outage"
    assert shown[0]["service_name"] == "Power outage"
    requested = datetime.fromisoformat(shown[0]["requested_datetime"])
    assert abs(requested - datetime.now(UTC)) < timedelta(minutes=5)


def test_account_attribute_places_the_report(
    open311_client: TestClient, open311_customer: NewCustomer, grid_database: str
) -> None:
    customer = open311_customer()
    response = _post(
        open311_client,
        service_code="outage",
        address_string="somewhere we cannot place",
        **{"attribute[customer_account]": customer.account},
    )
    assert response.status_code == 201
    report = _stored(grid_database, response.json()[0]["service_request_id"])
    assert report.match_method is MatchMethod.ACCOUNT
    assert report.account_given == customer.account


def test_hazard_takes_its_type(
    open311_client: TestClient, open311_customer: NewCustomer, grid_database: str
) -> None:
    customer = open311_customer()
    response = _post(
        open311_client,
        service_code="hazard",
        lat=str(customer.lat),
        long=str(customer.lon),
        phone=customer.phone,
        **{"attribute[hazard_type]": "wires_down"},
    )
    assert response.status_code == 201
    ticket = response.json()[0]["service_request_id"]
    report = _stored(grid_database, ticket)
    assert report.service_code == "hazard"
    assert report.hazard is Hazard.WIRES_DOWN

    shown = open311_client.get(f"/open311/v2/requests/{ticket}.json").json()[0]
    assert shown["service_code"] == "hazard"
    assert shown["description"] == "Wires down"


def test_care_request_becomes_a_service_request_with_its_attributes(
    open311_client: TestClient, open311_customer: NewCustomer, grid_database: str
) -> None:
    customer = open311_customer()
    outage = _post(
        open311_client,
        service_code="outage",
        address_string=customer.address,
        **{"attribute[customer_account]": customer.account},
    )
    assert outage.status_code == 201
    response = _post(
        open311_client,
        "xml",
        service_code="change_of_tariff_quota",
        address_string=customer.address,
        description="Nhà có thêm một hộ",
        lang="vi",
        **{
            "attribute[customer_account]": customer.account,
            "attribute[household_count]": "3",
        },
    )
    assert response.status_code == 201
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    ticket = root.findtext("request/service_request_id")
    assert ticket
    assert "Cảm ơn" in (root.findtext("request/service_notice") or "")
    account_id = root.find("request/account_id")
    assert account_id is not None and account_id.text is None

    request = _stored_request(grid_database, ticket)
    assert request.request_type is RequestType.CHANGE_OF_TARIFF_QUOTA
    assert request.channel is Channel.OPEN311
    assert request.state is RequestState.RECEIVED
    assert request.premise_id == _premise_id(grid_database, customer.premise)
    assert request.account_given == customer.account
    assert request.details == {"household_count": 3}
    assert request.description == "Nhà có thêm một hộ"

    shown = open311_client.get(f"/open311/v2/requests/{ticket}.json", params={"lang": "vi"})
    assert shown.json()[0]["service_name"] == "Thay đổi định mức sử dụng điện"
    assert shown.json()[0]["status"] == "open"
    assert shown.json()[0]["expected_datetime"] == w3c(request.due_at)


def test_retried_post_with_idempotency_key_gets_the_first_ticket(
    open311_client: TestClient, open311_customer: NewCustomer, open311_report_count: Count
) -> None:
    customer = open311_customer()
    form = {
        "api_key": API_KEY,
        "service_code": "meter_check",
        "address_string": customer.address,
        "attribute[customer_account]": customer.account,
    }
    headers = {"Idempotency-Key": f"retry-{customer.account}"}
    first = open311_client.post("/open311/v2/requests.json", data=form, headers=headers)
    before = open311_report_count()
    again = open311_client.post("/open311/v2/requests.json", data=form, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    assert open311_report_count() == before

    changed = open311_client.post(
        "/open311/v2/requests.json", data={**form, "description": "other"}, headers=headers
    )
    assert changed.status_code == 409
    assert changed.json()[0]["code"] == 409


@pytest.mark.parametrize(
    ("form", "status", "reason"),
    [
        ({"service_code": "teapot", "lat": "53.64", "long": "11.37"}, 400, "service_code"),
        ({"lat": "53.64", "long": "11.37"}, 400, "service_code is required"),
        ({"service_code": "outage"}, 400, "location is required"),
        ({"service_code": "outage", "address_id": "A-1"}, 400, "address_id"),
        ({"service_code": "outage", "lat": "53.64"}, 400, "lat and long go together"),
        ({"service_code": "outage", "lat": "north", "long": "east"}, 400, "decimal degrees"),
        ({"service_code": "outage", "lat": "95", "long": "11.37"}, 400, "lat:"),
        ({"service_code": "outage", "lat": "10.77", "long": "106.70"}, 400, "territory"),
        (
            {"service_code": "outage", "address_string": "x", "phone": "12"},
            400,
            "phone: not a valid phone number",
        ),
        (
            {"service_code": "outage", "address_string": "x", "email": "nobody"},
            400,
            "email:",
        ),
        (
            {"service_code": "outage", "address_string": "x", "description": "x" * 2001},
            400,
            "description:",
        ),
        ({"service_code": "hazard", "address_string": "x"}, 400, "hazard_type] is required"),
        (
            {"service_code": "hazard", "address_string": "x", "attribute[hazard_type]": "ufo"},
            400,
            "must be one of",
        ),
        (
            {"service_code": "outage", "address_string": "x", "attribute[colour]": "red"},
            400,
            "no attribute 'colour'",
        ),
        (
            {
                "service_code": "change_of_tariff_quota",
                "address_string": "x",
                "attribute[customer_account]": "A1",
                "attribute[household_count]": "many",
            },
            400,
            "whole number",
        ),
        ({"service_code": "meter_check", "address_string": "x"}, 400, "customer_account"),
        (
            {"service_code": "outage", "address_string": "x", "api_key": "wrong"},
            403,
            "api_key",
        ),
        (
            {"service_code": "outage", "address_string": "x", "jurisdiction_id": "other"},
            404,
            "jurisdiction_id",
        ),
    ],
)
def test_bad_requests_get_spec_errors_and_store_nothing(
    open311_client: TestClient,
    open311_report_count: Count,
    form: dict[str, str],
    status: int,
    reason: str,
) -> None:
    before = open311_report_count()
    response = open311_client.post("/open311/v2/requests.json", data={"api_key": API_KEY, **form})
    assert response.status_code == status, response.text
    [error] = response.json()
    assert error["code"] == status
    assert reason in error["description"]
    assert open311_report_count() == before


def test_missing_api_key_is_403_in_xml(
    open311_client: TestClient, open311_report_count: Count
) -> None:
    before = open311_report_count()
    response = open311_client.post(
        "/open311/v2/requests.xml", data={"service_code": "outage", "address_string": "x"}
    )
    assert response.status_code == 403
    root = ET.fromstring(response.content)
    assert root.findtext("error/code") == "403"
    assert open311_report_count() == before


def test_a_key_of_another_scope_is_refused(
    open311_client: TestClient, credentials: Credentials, open311_report_count: Count
) -> None:
    before = open311_report_count()
    for key in (credentials.keys[Scope.SCADA], credentials.keys[Scope.CHANNELS]):
        response = open311_client.post(
            "/open311/v2/requests.json",
            data={"api_key": key, "service_code": "outage", "address_string": "x"},
        )
        assert response.status_code == 403
        assert "may not" in response.json()[0]["description"]
    assert open311_report_count() == before


def test_xml_errors_escape_what_the_client_sent(open311_client: TestClient) -> None:
    sent = "<b>&amp;\x01\"'</b>"
    response = open311_client.get("/open311/v2/requests.xml", params={"service_code": sent})
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert root.findtext("error/description") == f"unknown service_code {sent!r}"


def test_get_requests_filters(
    open311_client: TestClient, open311_customer: NewCustomer, grid_database: str
) -> None:
    first, second = open311_customer(), open311_customer()
    tickets = []
    for customer, code in ((first, "billing_question"), (second, "service_feedback")):
        response = _post(
            open311_client,
            service_code=code,
            address_string=customer.address,
            **{"attribute[customer_account]": customer.account},
        )
        tickets.append(response.json()[0]["service_request_id"])

    by_id = open311_client.get(
        "/open311/v2/requests.json", params={"service_request_id": ",".join(tickets)}
    ).json()
    assert {r["service_request_id"] for r in by_id} == set(tickets)

    feedback = open311_client.get(
        "/open311/v2/requests.json", params={"service_code": "service_feedback", "status": "open"}
    ).json()
    assert tickets[1] in {r["service_request_id"] for r in feedback}
    assert {r["service_code"] for r in feedback} == {"service_feedback"}

    closed = open311_client.get(
        "/open311/v2/requests.json", params={"service_code": "service_feedback", "status": "closed"}
    ).json()
    assert tickets[1] not in {r["service_request_id"] for r in closed}

    now = datetime.now(UTC)
    window = {
        "start_date": (now - timedelta(hours=1)).isoformat(),
        "end_date": (now + timedelta(hours=1)).isoformat(),
    }
    recent = open311_client.get("/open311/v2/requests.xml", params=window)
    root = ET.fromstring(recent.content)
    assert root.tag == "service_requests"
    assert set(tickets) <= {r.findtext("service_request_id") for r in root.iterfind("request")}

    earlier = {
        "start_date": "2020-01-01T00:00:00Z",
        "end_date": "2020-02-01T00:00:00+07:00",
    }
    assert open311_client.get("/open311/v2/requests.json", params=earlier).json() == []


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"start_date": "yesterday"}, "W3C"),
        ({"start_date": "2026-01-01T00:00:00"}, "time zone"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"}, "after"),
        ({"start_date": "2025-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "90 days"),
        ({"status": "pending"}, "status"),
        ({"service_code": "outage,teapot"}, "teapot"),
    ],
)
def test_bad_queries_are_400(
    open311_client: TestClient, params: dict[str, str], reason: str
) -> None:
    response = open311_client.get("/open311/v2/requests.json", params=params)
    assert response.status_code == 400
    assert reason in response.json()[0]["description"]


def test_unknown_request_is_404(open311_client: TestClient) -> None:
    response = open311_client.get("/open311/v2/requests/000000-XXXXX.xml")
    assert response.status_code == 404
    assert ET.fromstring(response.content).findtext("error/code") == "404"


def test_a_photo_posted_as_media_is_kept_with_the_report(
    open311_client: TestClient, open311_customer: NewCustomer, grid_database: str
) -> None:
    customer = open311_customer()
    response = open311_client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": API_KEY,
            "service_code": "outage",
            "lat": customer.lat,
            "long": customer.lon,
        },
        files={"media": ("pole.jpg", pictures.jpeg_with_html(), "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    report = _stored(grid_database, response.json()[0]["service_request_id"])
    with session_scope(session_factory(grid_database)) as session:
        [photo] = session.scalars(select(Photo).where(Photo.report_id == report.id))
        assert (photo.source, photo.content_type) == (PhotoSource.OPEN311, "image/jpeg")
        assert b"<html" not in photo.data
    shown = open311_client.get(f"/open311/v2/requests/{report.ticket}.json").json()
    assert shown[0]["media_url"] is None, "no photo link in a public answer"


def _fetches(database_url: str, ticket: str) -> list[tuple[str, str | None, bool]]:
    with session_scope(session_factory(database_url)) as session:
        rows = session.execute(
            select(PhotoFetch.outcome, PhotoFetch.reason, PhotoFetch.photo_id.is_not(None))
            .join(Report, Report.id == PhotoFetch.report_id)
            .where(Report.ticket == ticket)
        ).all()
    return [(str(outcome), reason, kept) for outcome, reason, kept in rows]


def test_a_media_url_is_fetched_and_kept_with_the_report(
    open311_client: TestClient,
    open311_customer: NewCustomer,
    grid_database: str,
    photo_server: str,
) -> None:
    customer = open311_customer()
    response = _post(
        open311_client,
        service_code="outage",
        address_string=customer.address,
        media_url=f"{photo_server}/photo.jpg",
    )
    assert response.status_code == 201, response.text
    ticket = response.json()[0]["service_request_id"]
    assert _fetches(grid_database, ticket) == [("stored", None, True)]


def test_a_media_url_that_cannot_be_fetched_leaves_the_request_standing(
    open311_client: TestClient,
    open311_customer: NewCustomer,
    grid_database: str,
    photo_server: str,
) -> None:
    customer = open311_customer()
    private = photo_server.replace("127.0.0.1", "localhost")
    response = _post(
        open311_client,
        service_code="outage",
        address_string=customer.address,
        media_url=f"{private}/photo.jpg",
    )
    assert response.status_code == 201, response.text
    ticket = response.json()[0]["service_request_id"]
    [(outcome, reason, kept)] = _fetches(grid_database, ticket)
    assert (outcome, kept) == ("failed", False)
    assert reason is not None and "not public" in reason


def test_a_media_url_with_a_control_character_is_a_failed_fetch(
    open311_client: TestClient,
    open311_customer: NewCustomer,
    grid_database: str,
) -> None:
    customer = open311_customer()
    response = _post(
        open311_client,
        service_code="outage",
        address_string=customer.address,
        media_url="http://1.1.1.1/a\x01b",
    )
    assert response.status_code == 201, response.text
    ticket = response.json()[0]["service_request_id"]
    [(outcome, _, kept)] = _fetches(grid_database, ticket)
    assert (outcome, kept) == ("failed", False)


def test_an_empty_media_field_is_no_photo(
    open311_client: TestClient, open311_customer: NewCustomer
) -> None:
    customer = open311_customer()
    response = open311_client.post(
        "/open311/v2/requests.json",
        data={"api_key": API_KEY, "service_code": "outage", "address_string": customer.address},
        files={"media": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 201, response.text


def test_files_and_broken_forms_get_spec_errors(
    open311_client: TestClient, open311_report_count: Count
) -> None:
    before = open311_report_count()
    form = {"api_key": API_KEY, "service_code": "outage", "address_string": "x"}
    not_a_photo = open311_client.post(
        "/open311/v2/requests.json",
        data=form,
        files={"media": ("photo.jpg", b"\xff\xd8\xff", "image/jpeg")},
    )
    assert not_a_photo.status_code == 415
    assert "JPEG" in not_a_photo.json()[0]["description"]
    other_file = open311_client.post(
        "/open311/v2/requests.json", data=form, files={"document": ("a.txt", b"words")}
    )
    assert other_file.status_code == 400
    assert "media" in other_file.json()[0]["description"]
    broken = open311_client.post(
        "/open311/v2/requests.xml",
        content=b"--x\r\nnot a part",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code == 400
    assert ET.fromstring(broken.content).findtext("error/code") == "400"
    assert open311_report_count() == before
