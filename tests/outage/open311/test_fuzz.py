"""Open311 fuzzed as a careless client would: whatever a form or a query holds, the answer
is a request, a list or a GeoReport error, never a server error."""

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from tests.conftest import FUZZ

from .conftest import API_KEY, JURISDICTION

ODD = st.sampled_from(
    ["", "nan", "inf", "-inf", "1e999", "21.03", "105.84", "\x00", "\ud800", "0" * 300, "x"]
)
"""Values that broke parsers before, among ordinary ones."""
VALUE = st.one_of(ODD, st.text(max_size=40))
FIELDS = [
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "email",
    "phone",
    "account_id",
    "first_name",
    "last_name",
    "device_id",
    "media_url",
    "jurisdiction_id",
    "attribute[hazard]",
    "attribute[account]",
]
FORMS = st.dictionaries(st.sampled_from(FIELDS), VALUE, max_size=8).map(
    lambda form: {"service_code": "outage", **form}
)
QUERIES = st.dictionaries(
    st.sampled_from(
        ["service_request_id", "service_code", "start_date", "end_date", "status", "page"]
    ),
    st.one_of(VALUE, st.sampled_from(["0001-01-01", "9999-12-31T23:59:59Z", "open,closed"])),
    max_size=4,
)


def _text(value: str) -> str:
    """What a form can carry: a lone surrogate cannot be encoded, so it goes as its escape."""
    return value.encode("utf-8", "backslashreplace").decode()


@FUZZ
@given(FORMS, st.sampled_from(["json", "xml"]))
@example({"service_code": "outage", "lat": "nan", "long": "inf"}, "json")
@example({"service_code": "outage", "lat": "1e999", "long": "105.84"}, "xml")
@example({"service_code": "outage", "description": "\x00"}, "json")
def test_a_post_never_answers_a_server_error(
    open311_client: TestClient, form: dict[str, str], fmt: str
) -> None:
    data = {key: _text(value) for key, value in form.items()}
    response = open311_client.post(
        f"/open311/v2/requests.{fmt}",
        data={"api_key": API_KEY, "jurisdiction_id": JURISDICTION, **data},
    )
    assert response.status_code < 500, response.text[:500]


@FUZZ
@given(QUERIES, st.sampled_from(["json", "xml"]))
def test_a_query_never_answers_a_server_error(
    open311_client: TestClient, query: dict[str, Any], fmt: str
) -> None:
    params = {key: _text(value) for key, value in query.items()}
    response = open311_client.get(f"/open311/v2/requests.{fmt}", params=params)
    assert response.status_code < 500, response.text[:500]
