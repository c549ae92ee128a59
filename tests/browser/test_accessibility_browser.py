"""Every page passes axe-core with no serious or critical violation.

axe-core (MPL-2.0) is vendored for these tests only; the product never serves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from grid_topology.model import GridModel
from outage.auth.enums import Role
from outage.i18n import strings
from tests.browser.conftest import blocking_violations
from tests.conftest import STAFF_PASSWORD, Credentials, username

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CUSTOMER_BAND = slice(1400, 1410)
"""The accessibility test reports for these customers only, so no other test's report is
made a duplicate."""


@dataclass(frozen=True)
class Audited:
    """A page to audit and who opens it (`None`: a customer, signed out)."""

    path: str
    role: Role | None = None


PAGES = [
    Audited("/report"),
    Audited("/status/{ticket}"),
    Audited("/request"),
    Audited("/alerts"),
    Audited("/map"),
    Audited("/transparency"),
    # The follow-up page as an unknown or expired link shows it: a live link needs a sent
    # "still out?" message, which only a whole restoration makes.
    Audited("/n/no-such-link"),
    Audited("/login"),
    Audited("/agent", Role.ADMIN),
    Audited("/agent/queue", Role.ADMIN),
    Audited("/dispatch", Role.ADMIN),
    Audited("/switching", Role.ADMIN),
    Audited("/supervisor", Role.ADMIN),
    Audited("/crew", Role.CREW),
]


def _sign_in(page: Page, url: str, role: Role) -> None:
    t = strings("vi")
    page.goto(url)
    assert urlsplit(page.url).path == "/login"
    page.get_by_label(t["login_username"]).fill(username(role))
    page.get_by_label(t["login_password"]).fill(STAFF_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name=t["login_button"], exact=True).click()


def _ticket(page: Page, live_server: str, account: str) -> str:
    """File a report on the form; its ticket."""
    page.goto(f"{live_server}/report")
    page.fill("#account", account)
    page.fill("#description", "accessibility test")
    with page.expect_navigation():
        page.click("#submit")
    return page.inner_text("#ticket")


@pytest.mark.parametrize("audited", PAGES, ids=[p.path for p in PAGES])
def test_the_page_has_no_serious_accessibility_violation(
    browser: Browser,
    live_server: str,
    sample_grid: GridModel,
    credentials: Credentials,
    audited: Audited,
) -> None:
    """`credentials` makes the staff accounts the staff pages are opened with."""
    # The pages' policy forbids inline scripts; only the test bypasses it to inject axe.
    context = browser.new_context(locale="vi-VN", bypass_csp=True)
    try:
        page = context.new_page()
        path = audited.path
        if "{ticket}" in path:
            premise = next(p for p in sample_grid.premises[CUSTOMER_BAND] if p.customer)
            assert premise.customer is not None
            path = path.format(ticket=_ticket(page, live_server, premise.customer.account))
        url = f"{live_server}{path}"
        if audited.role is not None:
            _sign_in(page, url, audited.role)
        else:
            page.goto(url)
        assert urlsplit(page.url).path == path
        page.wait_for_load_state("networkidle")
        assert blocking_violations(page) == []
    finally:
        context.close()
