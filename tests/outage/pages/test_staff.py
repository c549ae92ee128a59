"""What every staff page shares: Vietnamese unless asked, never cached, nothing a strict
Content Security Policy would block."""

import re

import pytest
from fastapi.testclient import TestClient

from outage.app import create_app
from outage.auth.enums import PrincipalKind, Role
from outage.pages.staff import STAFF_PAGES, staff_links
from outage.web.principal import Principal, route_rules
from tests.conftest import Credentials, staff_client, username


@pytest.mark.parametrize("path", ["/agent", "/agent/queue"])
def test_pages_are_vietnamese_by_default_never_cached_and_script_free(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == "vi"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert '<html lang="vi">' in html
    assert f'href="{path}?lang=en"' in html
    assert "<script" not in html and " style=" not in html, "nothing a strict CSP would block"
    assert not re.search(r'(src|href|action)="(https?:)?//', html), "everything from the app"


def _links_of(role: Role) -> list[str]:
    staff = Principal(name=username(role), kind=PrincipalKind.STAFF, roles=frozenset({role}))
    return [link.path for link in staff_links(staff, "/crew")]


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        (Role.AGENT, ["/agent", "/agent/queue"]),
        (Role.DISPATCHER, ["/agent/queue", "/dispatch", "/switching", "/after-action"]),
        (Role.CREW, ["/crew"]),
        (
            Role.SUPERVISOR,
            ["/agent", "/agent/queue", "/dispatch", "/switching", "/supervisor", "/after-action"],
        ),
        (
            Role.ADMIN,
            [
                "/agent",
                "/agent/queue",
                "/dispatch",
                "/switching",
                "/supervisor",
                "/after-action",
                "/crew",
            ],
        ),
    ],
)
def test_the_nav_lists_the_pages_the_role_may_open(role: Role, paths: list[str]) -> None:
    assert _links_of(role) == paths


def test_every_linked_page_needs_the_permission_its_route_requires() -> None:
    required = {
        rule.path: rule.permission
        for rule in route_rules(create_app("postgresql://staff.invalid/none"))
        if "GET" in rule.methods
    }
    for page in STAFF_PAGES:
        assert required[page.path] in page.needs, page.path


def test_no_links_for_the_signed_out() -> None:
    assert staff_links(None, "/login") == []


@pytest.mark.parametrize(
    "path", ["/agent", "/agent/queue", "/dispatch", "/switching", "/supervisor", "/after-action"]
)
def test_the_page_shown_is_marked_current(client: TestClient, path: str) -> None:
    html = client.get(path).text
    current = re.findall(r'<a id="nav-\w+" href="([^"?]+)\?lang=vi" aria-current="page">', html)
    assert current == [path]


def test_the_crew_page_links_only_to_itself(grid_database: str, credentials: Credentials) -> None:
    with staff_client(create_app(grid_database), credentials, Role.CREW) as crew:
        html = crew.get("/crew").text
    assert re.findall(r'<a id="nav-\w+" href="([^"?]+)', html) == ["/crew"]
    assert 'href="/crew?lang=vi" aria-current="page"' in html
