"""JSON and XML rendering, without a database."""

import json
import xml.etree.ElementTree as ET

import pytest

from outage.api.open311 import error_response, render
from outage.open311.formats import Format, Open311Error, format_of


def test_xml_escapes_markup_and_drops_characters_xml_cannot_carry() -> None:
    text = "a < b && c > d \"quoted\" 'single' ]]> \x00\x07\x1b Điện ✓ \U0001f50c"
    response = render([{"description": text}], Format.XML, root="service_requests", item="request")
    body = bytes(response.body)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<service_requests>')
    root = ET.fromstring(body)
    assert root.findtext("request/description") == (
        "a < b && c > d \"quoted\" 'single' ]]>  Điện ✓ \U0001f50c"
    )


def test_nested_lists_take_the_spec_element_names() -> None:
    content = {
        "service_code": "hazard",
        "attributes": [
            {"code": "hazard_type", "required": True, "values": [{"key": "fire", "name": "Fire"}]}
        ],
    }
    root = ET.fromstring(bytes(render(content, Format.XML, root="service_definition").body))
    assert root.findtext("attributes/attribute/required") == "true"
    assert root.findtext("attributes/attribute/values/value/key") == "fire"


def test_none_is_an_empty_element_and_null_in_json() -> None:
    content = [{"service_request_id": "T1", "account_id": None}]
    root = ET.fromstring(bytes(render(content, Format.XML, root="r", item="request").body))
    element = root.find("request/account_id")
    assert element is not None and element.text is None and len(element) == 0
    assert json.loads(bytes(render(content, Format.JSON, root="r").body)) == content


def test_errors_in_both_formats() -> None:
    response = error_response(403, ["api_key is missing"], Format.JSON)
    assert response.status_code == 403
    assert json.loads(bytes(response.body)) == [{"code": 403, "description": "api_key is missing"}]
    response = error_response(400, ["one", "two"], Format.XML)
    root = ET.fromstring(bytes(response.body))
    assert [e.findtext("description") for e in root.iterfind("error")] == ["one", "two"]
    assert response.headers["content-type"] == "text/xml; charset=utf-8"


def test_format_suffix() -> None:
    assert format_of("JSON") is Format.JSON
    with pytest.raises(Open311Error) as refused:
        format_of("csv")
    assert refused.value.status == 404
