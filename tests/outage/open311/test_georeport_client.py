"""A published GeoReport v2 client (`georeport` on PyPI) against a real server.

The client speaks real HTTP, so the app runs under uvicorn on a free loopback port.
It reads services and requests; it does not post, so posting is a plain form POST as
the specification describes it.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
import requests
from fastapi import FastAPI
from georeport import GeoReport

from outage.settings import Settings

from .conftest import API_KEY, JURISDICTION, Open311Customer, open311_app


@pytest.fixture(scope="module")
def open311_server(
    grid_database: str,
    open311_settings: Settings,
    serve: Callable[[FastAPI], AbstractContextManager[str]],
) -> Iterator[str]:
    """Root address of the Open311 endpoint of a live server, stopped after the module."""
    with serve(open311_app(grid_database, open311_settings)) as url:
        yield f"{url}/open311/v2"


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_client_lists_services_and_reads_definitions(
    open311_server: str, output_format: str
) -> None:
    client = GeoReport(open311_server, jurisdiction=JURISDICTION, output_format=output_format)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert codes[:2] == ["outage", "hazard"]
    assert "change_of_tariff_quota" in codes

    definition = client.get_service_definition("hazard")
    attributes = definition["attributes"]
    if output_format == "xml":  # xmltodict: one member is a dict, not a list
        attributes = attributes["attribute"]
        attributes = attributes if isinstance(attributes, list) else [attributes]
    assert attributes[0]["code"] == "hazard_type"


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_posted_request_is_stored_and_read_back(
    open311_server: str,
    open311_customer: Callable[[], Open311Customer],
    output_format: str,
) -> None:
    customer = open311_customer()
    posted = requests.post(
        f"{open311_server}/requests.json",
        data={
            "api_key": API_KEY,
            "jurisdiction_id": JURISDICTION,
            "service_code": "outage",
            "lat": customer.lat,
            "long": customer.lon,
            "phone": customer.phone,
            "description": "no power since 8",
        },
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    ticket = posted.json()[0]["service_request_id"]

    client = GeoReport(open311_server, jurisdiction=JURISDICTION, output_format=output_format)
    one = client.get_service_request(ticket)
    assert one["service_request_id"] == ticket
    assert one["status"] == "open"
    assert one["service_code"] == "outage"

    found = client.get_service_requests(service_request_id=ticket, status="open")
    found = found if isinstance(found, list) else [found]  # xmltodict again
    assert [r["service_request_id"] for r in found] == [ticket]

    refused = requests.post(
        f"{open311_server}/requests.xml",
        data={"api_key": "not-ours", "service_code": "outage", "lat": 1, "long": 1},
        timeout=30,
    )
    assert refused.status_code == 403
    assert "<errors><error><code>403</code>" in refused.text
