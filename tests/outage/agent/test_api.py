"""GET /api/v1/agent/customers: an agent finds the caller by account, phone or address."""

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from outage.db import session_factory, session_scope

URL = "/api/v1/agent/customers"


@dataclass(frozen=True)
class Caller:
    account: str
    name: str
    phone: str
    address: str
    premise: str
    transformer: str
    feeder: str


@pytest.fixture(scope="module")
def _caller_offsets() -> Iterator[int]:
    return count(start=5, step=17)


@pytest.fixture
def caller(grid_database: str, _caller_offsets: Iterator[int]) -> Caller:
    """A customer with a phone, counted from the last backwards so no other test reports
    for them."""
    with session_scope(session_factory(grid_database)) as session:
        row = session.execute(
            text(
                "SELECT c.account, c.name, c.phone, p.address, p.ref AS premise,"
                " d.asset_ref AS transformer, f.name AS feeder"
                " FROM customers c JOIN premises p ON p.id = c.premise_id"
                " JOIN devices d ON d.id = p.transformer_id"
                " JOIN feeders f ON f.id = p.feeder_id"
                " WHERE c.phone IS NOT NULL"
                " ORDER BY c.id DESC OFFSET :offset LIMIT 1"
            ),
            {"offset": next(_caller_offsets)},
        ).one()
        return Caller(**row._mapping)


def _unaccented(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def test_by_account_gives_customer_premise_and_network(client: TestClient, caller: Caller) -> None:
    response = client.get(URL, params={"q": f"  {caller.account} "})
    assert response.status_code == 200
    [found] = response.json()
    assert found["account"] == caller.account
    assert found["name"] == caller.name
    assert found["phone"] == caller.phone
    assert found["language"] in {"vi", "en"}
    assert found["matched_by"] == "account"
    assert found["premise"] == {
        "ref": caller.premise,
        "address": caller.address,
        "transformer": caller.transformer,
        "feeder": caller.feeder,
    }
    assert found["open_reports"] == []


@pytest.mark.parametrize(
    "spoken",
    [
        lambda e164: e164,
        lambda e164: "0" + e164[3:],
        lambda e164: f"0{e164[3:6]} {e164[6:9]} {e164[9:]}",
        lambda e164: e164[1:],
        lambda e164: f"+84 ({e164[3:6]}) {e164[6:9]}-{e164[9:]}",
    ],
    ids=["e164", "national", "spaced", "no-plus", "punctuated"],
)
def test_by_phone_in_any_format(
    client: TestClient, caller: Caller, spoken: Callable[[str], str]
) -> None:
    found = client.get(URL, params={"q": spoken(caller.phone)}).json()
    assert [c["account"] for c in found] == [caller.account]
    assert found[0]["matched_by"] == "phone"


def test_by_address_without_accents(client: TestClient, caller: Caller) -> None:
    street = _unaccented(caller.address.split(",")[0])
    found = client.get(URL, params={"q": street}).json()
    assert found, street
    assert found[0]["account"] == caller.account
    assert {c["matched_by"] for c in found} == {"address"}
    assert len(found) <= 20


def test_a_street_gives_at_most_twenty(client: TestClient, caller: Caller) -> None:
    street = " ".join(caller.address.split(",")[0].split()[1:])  # without the house number
    found = client.get(URL, params={"q": street, "by": "address"}).json()
    assert len(found) == 20
    assert len({c["account"] for c in found}) == 20


def test_open_reports_are_listed(client: TestClient, caller: Caller) -> None:
    filed = client.post("/api/v1/reports", json={"account": caller.account, "channel": "agent"})
    assert filed.status_code == 201, filed.text
    ticket = filed.json()["ticket"]
    [found] = client.get(URL, params={"q": caller.account}).json()
    [report] = found["open_reports"]
    assert report["ticket"] == ticket
    assert report["status"] == "received"
    assert report["service_code"] == "outage"
    assert report["received_at"]


def test_forcing_a_kind_looks_only_that_way(client: TestClient, caller: Caller) -> None:
    assert client.get(URL, params={"q": caller.account, "by": "phone"}).json() == []
    found = client.get(URL, params={"q": caller.phone, "by": "phone"}).json()
    assert [c["account"] for c in found] == [caller.account]


def test_nobody_found_is_an_empty_list(client: TestClient) -> None:
    assert client.get(URL, params={"q": "zzzz qqqq xxxx"}).json() == []
    assert client.get(URL, params={"q": "0200 000 000"}).json() == []


def test_query_is_required(client: TestClient) -> None:
    assert client.get(URL).status_code == 422
    assert client.get(URL, params={"q": ""}).status_code == 422
    assert client.get(URL, params={"q": "x", "by": "name"}).status_code == 422
