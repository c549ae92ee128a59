"""Discovery, the service list and service definitions, in JSON and XML."""

import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

from outage.intake.enums import Hazard
from outage.open311.catalogue import CARE_CODES

from .conftest import JURISDICTION

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
