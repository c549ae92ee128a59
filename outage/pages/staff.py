"""What every staff page shares: the signed-in page, its redirects, phones and tickets as typed.

For the staff pages (`outage.pages.agent_console`, `outage.pages.review_queue`,
`outage.pages.supervisor`, `outage.pages.after_action`, `outage.pages.switching`, the
dispatch map and the crew page): a page names who is signed in, links to the other staff
pages its reader may open (`staff_links`, drawn by `_staff_nav.html`) and is never cached,
since staff pages show personal data. Permissions and CSRF tokens are checked before a
route runs (`outage.web.principal.require`); every form carries the session's CSRF token.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from fastapi import status
from fastapi.responses import HTMLResponse, RedirectResponse

from outage.i18n import Language
from outage.pages.customer import MAX_TICKET_LENGTH
from outage.web.principal import Principal
from outage.web.rendering import render_page

NO_STORE = {"Cache-Control": "no-store"}
"""Personal data: never cached. The other security headers are the app's (`SecurityHeaders`)."""


@dataclass(frozen=True)
class StaffPage:
    """A staff page in the navigation bar, shown to those who hold all of `needs`."""

    name: str
    path: str
    label: str
    """Its name in the catalogues."""
    needs: frozenset[str]


STAFF_PAGES: tuple[StaffPage, ...] = (
    StaffPage("search", "/agent", "agent_nav_search", frozenset({"customers.lookup"})),
    StaffPage("queue", "/agent/queue", "agent_nav_queue", frozenset({"reports.queue"})),
    StaffPage("dispatch", "/dispatch", "staff_nav_dispatch", frozenset({"pages.dispatch"})),
    # The crew reads switching orders too, but only its own, on the crew page: the control
    # room's switching page is for those who also read the grid.
    StaffPage("switching", "/switching", "switching_nav", frozenset({"orders.read", "grid.read"})),
    StaffPage("supervisor", "/supervisor", "supervisor_nav", frozenset({"pages.supervisor"})),
    StaffPage(
        "after_action", "/after-action", "after_action_nav", frozenset({"reports.after_action"})
    ),
    StaffPage("crew", "/crew", "staff_nav_crew", frozenset({"pages.crew"})),
)
"""The staff pages, in the bar's order; each `needs` holds the permission its route requires."""


@dataclass(frozen=True)
class StaffLink:
    """A link of the navigation bar; `current` marks the page being read."""

    name: str
    path: str
    label: str
    current: bool


def staff_links(staff: Principal | None, path: str) -> list[StaffLink]:
    """The staff pages `staff` may open, the one at `path` marked; none for the signed out."""
    if staff is None or not staff.is_staff:
        return []
    return [
        StaffLink(page.name, page.path, page.label, current=page.path == path)
        for page in STAFF_PAGES
        if all(staff.may(permission) for permission in page.needs)
    ]


def staff_page(
    template: str,
    language: Language,
    context: Mapping[str, Any],
    *,
    path: str,
    params: Mapping[str, str],
    staff: Principal | None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """A page; the language switch leads to `path` with `params`, so nothing typed is lost.

    `staff` names who is signed in; None (or a customer) shows no one, as on sign-in."""
    return render_page(
        template,
        language,
        {
            "staff": staff if staff is not None and staff.is_staff else None,
            "staff_links": staff_links(staff, path),
            **context,
        },
        path=path,
        params=params,
        status_code=status_code,
        headers=NO_STORE,
    )


def redirect(path: str, params: Mapping[str, str]) -> RedirectResponse:
    """See `path` with the `params` that have a value; never cached."""
    kept = {name: value for name, value in params.items() if value}
    return RedirectResponse(
        f"{path}?{urlencode(kept)}",
        status_code=status.HTTP_303_SEE_OTHER,
        headers=NO_STORE,
    )


def national_phone(phone: str | None) -> str | None:
    """'+84912345678' as a Vietnamese caller reads it out: '0912 345 678'."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, "VN")
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def normal_ticket(ticket: str) -> str | None:
    """A ticket as typed, without spaces and in capitals; None if it cannot be one."""
    wanted = "".join(ticket.split()).upper()
    return wanted if 0 < len(wanted) <= MAX_TICKET_LENGTH else None
