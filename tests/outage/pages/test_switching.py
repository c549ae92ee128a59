"""The switching page: devices out of their normal state, and the return to normal drafted
in one click."""

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import DeviceKind, GridModel
from outage.app import create_app
from outage.auth.enums import Role
from tests.conftest import Credentials, issue_credentials, own_database


@pytest.fixture(scope="module")
def setting(database_url: str, sample_grid: GridModel) -> Iterator[tuple[TestClient, Credentials]]:
    with (
        own_database(database_url, "switching_page", sample_grid) as url,
        TestClient(create_app(url)) as client,
    ):
        yield client, issue_credentials(url)


@pytest.fixture(scope="module")
def opened(setting: tuple[TestClient, Credentials], sample_grid: GridModel) -> str:
    """A switch the dispatcher opened by hand, with a reason."""
    client, credentials = setting
    switch = [d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.SWITCH][-2]
    body = {
        "asset_ref": switch,
        "state": "open",
        "occurred_at": datetime.now(UTC).isoformat(),
        "reason": "pole replacement",
    }
    client.post(
        "/api/v1/grid/operations", json=body, headers=credentials.staff(Role.DISPATCHER)
    ).raise_for_status()
    return switch


def test_the_page_lists_the_device_with_who_and_why(
    setting: tuple[TestClient, Credentials], opened: str
) -> None:
    client, credentials = setting
    page = client.get("/switching?lang=en", headers=credentials.staff(Role.DISPATCHER))
    assert page.status_code == 200, page.text
    assert f'data-asset-ref="{opened}"' in page.text
    assert "pole replacement" in page.text and "test-dispatcher" in page.text
    assert 'class="return-one"' in page.text


def test_one_click_drafts_the_return_to_normal(
    setting: tuple[TestClient, Credentials], opened: str
) -> None:
    client, credentials = setting
    headers = credentials.staff(Role.DISPATCHER)
    answer = client.post(
        "/switching/return-to-normal",
        data={"asset_ref": opened, "lang": "en"},
        headers=headers,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    [drafted] = parse_qs(urlsplit(answer.headers["location"]).query)["drafted"]
    order = client.get(f"/api/v1/switching/orders/{drafted}", headers=headers).json()
    assert [(s["action"], s["asset_ref"]) for s in order["steps"]] == [("close", opened)]
    assert order["state"] == "draft"


def test_a_device_in_its_normal_state_comes_back_with_the_reason(
    setting: tuple[TestClient, Credentials], sample_grid: GridModel
) -> None:
    client, credentials = setting
    normal = next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.SWITCH)
    page = client.post(
        "/switching/return-to-normal",
        data={"asset_ref": normal, "lang": "en"},
        headers=credentials.staff(Role.DISPATCHER),
    )
    assert page.status_code == 200 and 'id="refused"' in page.text
    assert "not out of their normal state" in page.text


def test_an_agent_may_not_see_the_page(setting: tuple[TestClient, Credentials]) -> None:
    client, credentials = setting
    answer = client.get("/switching", headers=credentials.staff(Role.AGENT))
    assert answer.status_code == 403
