"""Who may do what: the permissions, and which roles and API-key scopes hold them, as data.

Every HTTP route declares exactly one permission (`require("...")` in its dependencies);
this table is the one place that says who holds it. `docs/access-control.md` is rendered
from it (`outage access-matrix`), and the tests walk every route against it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from outage.auth.enums import Role, Scope
from outage.incidents.enums import Action

PERMISSIONS: dict[str, str] = {
    # Anyone, customers included
    "service.health": "Liveness and database reachability.",
    "pages.customer": "The customer pages: the report form and a report's status page.",
    "reports.submit": "File a report (customers, apps, agents on a caller's behalf).",
    "reports.status": (
        "A report's status by its ticket; without `reports.queue` only with `phone_last4`, "
        "the last four digits of the phone given with the report or registered to its customer."
    ),
    "open311.read": "Open311 GeoReport v2 discovery, services and requests (GET).",
    "auth.login": "Sign in: the login page, and bearer tokens for API clients.",
    "auth.logout": "Sign out: end the session or token the request carries.",
    "map.public": "The public outage map and its aggregated data (no personal data).",
    "site.icon": "The site's icon (favicon).",
    "feeds.public": (
        "The public feeds: customers out by area (JSON), CAP 1.2 alerts and an Atom feed "
        "(no personal data)."
    ),
    "notifications.reply": 'Answer a "still out?" follow-up from the link in a message.',
    "alerts.subscribe": (
        "Ask for outage alerts at a phone or e-mail address (a one-time code proves it), "
        "then read, change or stop them with the subscription's token."
    ),
    "alerts.unsubscribe": "The unsubscribe link in every message: see what stops, and stop it.",
    "requests.submit": "File a customer-care service request.",
    "reports.photos": (
        "Add a photo to a report by its ticket (which only its reporter was given), "
        "within the report's count."
    ),
    "requests.status": (
        "A service request's status by its ticket (with `phone_last4`), and its "
        "satisfaction rating once closed."
    ),
    "transparency.public": (
        "The published service figures (reliability by area and month, service requests "
        "by type and month: counts only, as a page, JSON and CSV) and the daily roots of "
        "the tamper-evident records (hashes only), for anyone to keep."
    ),
    "channels.zalo": (
        "The Zalo Official Account webhook: open to anyone, each event refused unless Zalo "
        "signed it with the OA's secret key (`X-ZEvent-Signature`)."
    ),
    # Any signed-in staff member or API key
    "auth.me": "Who the request is signed in as: name, roles, scopes, crew.",
    # Staff
    "customers.lookup": "Find customers by phone, account or address (personal data).",
    "reports.queue": "The review queue of unplaced reports, and any report's status unchecked.",
    "reports.place": "Place a queued report on a premise.",
    "reports.file": "File a caller's report from the agent console.",
    "incidents.read": "Incidents, their map layer, evidence and audit trail.",
    "incidents.act": "Dispatcher and crew actions on an incident (PATCH).",
    "photos.read": "The photos of reports and incidents, their thumbnails and lists.",
    "photos.add": "Add a photo to an incident (the damage a crew found).",
    "incidents.create": "Create an incident at a device (damage nobody reported).",
    "grid.read": "Network devices, tracing, and devices not in their normal state.",
    "grid.operate": "Record a device opened or closed by hand or in the field; find it by name.",
    "orders.read": "Switching orders: their steps, state and last check.",
    "orders.draft": "Draft, edit and check a switching order; draft a return to normal.",
    "orders.approve": (
        "Approve a switching order drafted by someone else (the roles in "
        "`order_approver_roles` only)."
    ),
    "orders.execute": "Start, carry out step by step, complete or abort a switching order.",
    "restoration.plan": (
        "An incident's ranked plans for restoration by switching (ordering one drafts a "
        "switching order: `orders.draft`)."
    ),
    "crews.read": "Crews: members, skills, shifts, status and live positions.",
    "crews.manage": "Create and change crews, their members, skills and shifts.",
    "crews.position": "Report a crew's live position and status.",
    "damage.report": "Report damage assessed in the field (poles, spans, access, work needed).",
    "dispatch.read": "The current dispatch plan: each crew's jobs in order, with ETRs.",
    "dispatch.plan": "Run the optimiser; pin or override an assignment.",
    "pages.crew": "The field crew's mobile page.",
    "pages.dispatch": "The dispatcher's live map and its data layers.",
    "notifications.read": "A customer's notification history (personal data).",
    "notifications.export": "What went out for an incident, as an export.",
    "notifications.preferences": (
        "Change how a customer is notified: channel, language, opt-out, quiet hours."
    ),
    "subscriptions.manage": (
        "A customer's alert contacts: list them, add one for the caller (verified by the "
        "agent) or stop one."
    ),
    "storms.read": "Storms declared, their phases by region, and the level proposed now.",
    "storms.manage": "Declare a storm, change its level and phases, and end it.",
    "planned.read": "Planned outages (maintenance windows).",
    "planned.manage": "Schedule, change or cancel a planned outage.",
    "requests.work": "The back-office queues: take, progress, close or reject requests.",
    "requests.assign": (
        "Give an open service request to another care team, or to an agent of a team."
    ),
    "reliability.read": "Reliability indices (IEEE 1366) and their CSV export.",
    "pages.supervisor": (
        "The supervisor dashboard: indices, SLA compliance, open work, and every care "
        "team's overdue requests and poor ratings."
    ),
    "reports.after_action": (
        "The after-action report of a storm or a period (its page, JSON and CSV): customers "
        "out hour by hour, crew utilisation, ETR accuracy, customers told, messages sent; "
        "and its replay with other crews or the planner's rule."
    ),
    "supervisor.live": (
        "The dashboard's live figures: customers out, incidents by status, crew load, "
        "message backlog, restoration times missed."
    ),
    # Integrations
    "channels.webhook": "The SMS gateway and IVR webhooks.",
    "ami.events": "Smart-meter head-end events (last gasp, power restored).",
    "ami.pings": "Smart-meter head-end answers to the meter pings we sent.",
    "meters.ping": "Ask smart meters whether they have power, and read their answers.",
    "scada.events": "SCADA switching events.",
    "open311.submit": "Post Open311 service requests.",
}
"""Every permission, with what it lets one do."""

PUBLIC: frozenset[str] = frozenset(
    {
        "service.health",
        "pages.customer",
        "reports.submit",
        "reports.status",
        "reports.photos",
        "open311.read",
        "auth.login",
        "auth.logout",
        "map.public",
        "site.icon",
        "feeds.public",
        "notifications.reply",
        "alerts.subscribe",
        "alerts.unsubscribe",
        "requests.submit",
        "requests.status",
        "channels.zalo",
        "transparency.public",
    }
)
"""Held by everyone, signed in or not."""

_READ = frozenset({"auth.me", "incidents.read", "photos.read", "storms.read"})

_OPERATIONS = frozenset({"crews.read", "dispatch.read", "planned.read"})

ROLE_GRANTS: dict[Role, frozenset[str]] = {
    Role.AGENT: _READ
    | {
        "customers.lookup",
        "reports.queue",
        "reports.place",
        "reports.file",
        "notifications.read",
        "notifications.preferences",
        "subscriptions.manage",
        "planned.read",
        "requests.work",
        "requests.assign",
    },
    Role.DISPATCHER: _READ
    | _OPERATIONS
    | {
        "reports.queue",
        "incidents.act",
        "incidents.create",
        "photos.add",
        "grid.read",
        "grid.operate",
        "orders.read",
        "orders.draft",
        "orders.approve",
        "orders.execute",
        "restoration.plan",
        "crews.manage",
        "crews.position",
        "damage.report",
        "dispatch.plan",
        "pages.dispatch",
        "notifications.export",
        "planned.manage",
        "reliability.read",
        "reports.after_action",
        "meters.ping",
    },
    Role.CREW: _READ
    | _OPERATIONS
    | {
        "incidents.act",
        "photos.add",
        "crews.position",
        "damage.report",
        "pages.crew",
        "grid.operate",
        "orders.read",
        "orders.execute",
    },
    Role.SUPERVISOR: _READ
    | _OPERATIONS
    | {
        "customers.lookup",
        "reports.queue",
        "grid.read",
        "orders.read",
        "orders.approve",
        "restoration.plan",
        "pages.dispatch",
        "notifications.read",
        "notifications.export",
        "reliability.read",
        "pages.supervisor",
        "supervisor.live",
        "requests.assign",
        "reports.after_action",
        "storms.manage",
        "meters.ping",
    },
    Role.ADMIN: frozenset(PERMISSIONS) - PUBLIC,
}
"""What each staff role holds besides the public permissions."""

SCOPE_GRANTS: dict[Scope, frozenset[str]] = {
    Scope.CHANNELS: frozenset({"auth.me", "channels.webhook"}),
    Scope.AMI: frozenset({"auth.me", "ami.events", "ami.pings"}),
    Scope.SCADA: frozenset({"auth.me", "scada.events"}),
    Scope.OPEN311: frozenset({"auth.me", "open311.submit"}),
}
"""What each API-key scope holds besides the public permissions."""


@dataclass(frozen=True)
class Restriction:
    """A grant that holds only for some of the targets of a permission."""

    name: str
    description: str
    actions: frozenset[str]
    """What it allows: incident actions (values of `outage.incidents.enums.Action`), or the
    crew's reports (`position`, `help`), or confirming a switching order's steps, or adding
    photos, or reporting damage."""


OWN_CREW = Restriction(
    name="own crew",
    description="only incidents assigned to the member's own crew",
    actions=frozenset(
        {
            Action.CONFIRM,
            Action.EN_ROUTE,
            Action.ON_SITE,
            Action.PARTIAL_RESTORE,
            Action.RESTORED,
            Action.SET_CAUSE,
            Action.SET_ETR,
        }
    ),
)

OWN_CREW_REPORTS = Restriction(
    name="own crew",
    description="only for the member's own crew",
    actions=frozenset({"position", "help"}),
)

OWN_CREW_STEPS = Restriction(
    name="own crew",
    description="only the steps of orders assigned to the member's own crew",
    actions=frozenset({"confirm step"}),
)

OWN_CREW_PHOTOS = Restriction(
    name="own crew",
    description="only incidents assigned to the member's own crew",
    actions=frozenset({"add photo"}),
)

OWN_CREW_DAMAGE = Restriction(
    name="own crew",
    description="only as the member's own crew",
    actions=frozenset({"report damage"}),
)

RESTRICTIONS: dict[tuple[Role, str], Restriction] = {
    (Role.CREW, "incidents.act"): OWN_CREW,
    (Role.CREW, "photos.add"): OWN_CREW_PHOTOS,
    (Role.CREW, "crews.position"): OWN_CREW_REPORTS,
    (Role.CREW, "orders.execute"): OWN_CREW_STEPS,
    (Role.CREW, "damage.report"): OWN_CREW_DAMAGE,
}
"""Grants of a role that hold only in part; the route enforces the part."""

UNGUARDED_PATHS: frozenset[str] = frozenset(
    {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static"}
)
"""Not API routes, public to all: the API's description and the pages' CSS and scripts."""


@dataclass(frozen=True)
class Grant:
    """A permission held, wholly or under a restriction."""

    permission: str
    restriction: Restriction | None = None


def check_known(permission: str) -> str:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}: add it to outage.auth.matrix")
    return permission


def grant(roles: Iterable[Role], scopes: Iterable[Scope], permission: str) -> Grant | None:
    """Whether roles and scopes together hold `permission`, and under what restriction."""
    check_known(permission)
    if permission in PUBLIC:
        return Grant(permission)
    restrictions: list[Restriction] = []
    for role in roles:
        if permission in ROLE_GRANTS[role]:
            restriction = RESTRICTIONS.get((role, permission))
            if restriction is None:
                return Grant(permission)
            restrictions.append(restriction)
    if any(permission in SCOPE_GRANTS[scope] for scope in scopes):
        return Grant(permission)
    return Grant(permission, restrictions[0]) if restrictions else None


def holders(permission: str) -> tuple[list[Role], list[Scope]]:
    check_known(permission)
    return (
        [r for r in Role if permission in ROLE_GRANTS[r] or permission in PUBLIC],
        [s for s in Scope if permission in SCOPE_GRANTS[s] or permission in PUBLIC],
    )


@dataclass(frozen=True)
class RouteRule:
    """One route and the permission it declares."""

    methods: tuple[str, ...]
    path: str
    permission: str


def render_markdown(routes: Sequence[RouteRule]) -> str:
    """The matrix as a Markdown page: roles and scopes per permission, then every route."""
    roles, scopes = list(Role), list(Scope)
    head = ["permission", "anonymous", *(r.value for r in roles), *(f"key: {s}" for s in scopes)]
    lines = [
        "# Access control",
        "",
        "Generated from `outage/auth/matrix.py` by `outage access-matrix`; do not edit by hand.",
        "",
        "Staff sign in on `/login` (a session cookie for the web pages, with a CSRF token in",
        "every form) or with `POST /api/v1/auth/token` (a bearer token for API clients).",
        "Integrations send an API key in `X-API-Key` (Open311 clients: the `api_key` form",
        "field). Accounts: `outage users add|list|disable`; keys: `outage keys add|list|revoke`.",
        "",
        "Without credentials a staff route answers 401 (the staff pages redirect to",
        "`/login`); with credentials that lack the permission, 403. Open311 answers both",
        "with the GeoReport error 403, as its specification says.",
        "",
        "## Who holds each permission",
        "",
        "| " + " | ".join(head) + " |",
        "| " + " | ".join("---" for _ in head) + " |",
    ]
    for permission in PERMISSIONS:
        public = permission in PUBLIC
        cells = ["yes" if public else ""]
        for role in roles:
            held = grant([role], [], permission)
            if held is None:
                cells.append("")
            else:
                cells.append(f"{held.restriction.name}" if held.restriction else "yes")
        cells.extend("yes" if grant([], [s], permission) else "" for s in scopes)
        lines.append(f"| `{permission}` | " + " | ".join(cells) + " |")
    lines += ["", "## Permissions", ""]
    lines += [f"- `{name}`: {text}" for name, text in PERMISSIONS.items()]
    lines += ["", "## Restrictions", ""]
    for (role, permission), restriction in RESTRICTIONS.items():
        actions = ", ".join(f"`{a}`" for a in sorted(restriction.actions))
        lines.append(
            f"- {role.value}, `{permission}` ({restriction.name}): "
            f"{restriction.description}; actions {actions}."
        )
    lines += [
        "",
        "## Routes",
        "",
        "| method | path | permission |",
        "| --- | --- | --- |",
    ]
    for rule in sorted(routes, key=lambda r: (r.path, r.methods)):
        lines.append(f"| {', '.join(rule.methods)} | `{rule.path}` | `{rule.permission}` |")
    unguarded = ", ".join(f"`{path}`" for path in sorted(UNGUARDED_PATHS))
    lines += ["", f"Public without a permission: {unguarded}.", ""]
    return "\n".join(lines)
