"""No enum's bare value reaches a Vietnamese page: every status, channel, kind, state and
source a page shows goes through the catalogues. Each page is rendered in Vietnamese on a
database seeded with every value it can show. What the maps' scripts draw takes its words
from the maps' catalogue, which `tests/outage/i18n/test_catalogues.py` checks names every
value the scripts show."""

import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dispatch.model import CrewStatus, Skill
from grid_topology.model import SWITCHING_KINDS, DeviceKind, GridModel, Premise
from outage.app import create_app
from outage.auth.enums import Role
from outage.care import service as care
from outage.care.enums import RequestState, RequestType, SlaStanding
from outage.care.schemas import RequestIn
from outage.db import session_factory, session_scope
from outage.grid import models as grid
from outage.grid.enums import SwitchSource
from outage.grid.switching import operate
from outage.i18n import Language, label
from outage.incidents.changes import open_incident, restore
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import IncidentStatus
from outage.intake import service as intake
from outage.intake.enums import Channel, Hazard, ReportStatus
from outage.intake.schemas import ReportIn
from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.models import Notification
from outage.orders.enums import OrderState, StepAction, StepState
from outage.orders.models import SwitchingOrder
from outage.outbox.enums import EventKind
from outage.pages.crew import CAUSES
from outage.settings import get_settings
from tests.conftest import Credentials, issue_credentials, own_database

SHOWN: tuple[type[StrEnum], ...] = (
    ReportStatus,
    Channel,
    Hazard,
    IncidentStatus,
    IncidentKind,
    RequestState,
    RequestType,
    SlaStanding,
    DeliveryChannel,
    DeliveryStatus,
    DeviceKind,
    SwitchSource,
    OrderState,
    StepAction,
    StepState,
    CrewStatus,
    Skill,
)
"""The vocabularies the pages show."""

RAW = {member.value for enum in SHOWN for member in enum} | set(CAUSES)
"""What must not be read on a page: the values as they are stored, in lower case (a
word the catalogue writes the same but capitalised, "Zalo", "SCADA", is a translation)."""

NOT_RAW = {"web"}
"""Values that are also Vietnamese words: "trang web" is what Vietnamese calls a website
(the `channel.web` words themselves)."""

WORD = re.compile(r"[a-z0-9_]+")


class _Visible(HTMLParser):
    """What a reader sees: the text outside <script> and <style>, and the attributes a
    browser shows (title, placeholder, alt, aria-label, a button's value)."""

    SHOWN_ATTRIBUTES = frozenset({"title", "placeholder", "alt", "aria-label"})

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "template"}:
            self._hidden += 1
        for name, value in attrs:
            if name in self.SHOWN_ATTRIBUTES and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "template"}:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data)


def _raw_words(html: str, own: Iterable[str]) -> dict[str, str]:
    """The bare enum values readable on the page, each with where it is read, leaving out
    `own` (the seed's own words)."""
    parser = _Visible()
    parser.feed(html)
    text = " ".join(parser.texts)
    for mine in own:
        text = text.replace(mine, " ")
    return {
        found.group(): text[max(found.start() - 40, 0) : found.end() + 40]
        for found in WORD.finditer(text)
        if found.group() in RAW - NOT_RAW
    }


@pytest.fixture(scope="module")
def seeded(
    database_url: str, sample_grid: GridModel
) -> Iterator[tuple[TestClient, Credentials, "Seeded"]]:
    with own_database(database_url, "enum_words", sample_grid) as url:
        facts = _seed(url, sample_grid)
        with TestClient(create_app(url)) as client:
            yield client, issue_credentials(url), facts


class Seeded:
    """What the seed made that the pages are asked for."""

    def __init__(self, customer: Premise, report_ticket: str, request_ticket: str) -> None:
        self.customer = customer
        self.report_ticket = report_ticket
        self.request_ticket = request_ticket


def _seed(url: str, sample_grid: GridModel) -> Seeded:
    premise = next(p for p in sample_grid.premises[200:] if p.customer is not None)
    assert premise.customer is not None
    account, phone = premise.customer.account, premise.customer.phone
    now = datetime.now(UTC)
    settings = get_settings()
    with session_scope(session_factory(url)) as session:
        for channel in Channel:
            intake.submit_report(
                session,
                intake.Submission(
                    ReportIn.model_validate(
                        {"channel": channel, "address": "Hẻm không tên", "description": "mất điện"}
                    )
                ),
                settings,
            )
        report = intake.submit_report(
            session,
            intake.Submission(
                ReportIn.model_validate(
                    {"account": account, "phone": phone, "hazard": Hazard.WIRES_DOWN}
                )
            ),
            settings,
        )
        request_ticket = ""
        for request_type in RequestType:
            request_ticket = care.submit_request(
                session,
                RequestIn.model_validate({"type": request_type, "account": account}),
                settings=settings,
            ).ticket
        customer_id = session.scalar(
            select(grid.Customer.id).where(grid.Customer.account == account)
        )
        channels = list(DeliveryChannel)
        for n, status in enumerate(DeliveryStatus):
            session.add(
                Notification(
                    kind=EventKind.REPLY,
                    customer_id=customer_id,
                    channel=channels[n % len(channels)],
                    address=phone,
                    language=Language.VI,
                    subject="Điện lực",
                    body="Đã nhận",
                    status=status,
                    due_at=now,
                    next_attempt_at=now,
                    sent_at=now if status is DeliveryStatus.SENT else None,
                    delivery_key=uuid.uuid4().hex,
                )
            )
        transformer = session.scalar(
            select(grid.Device.asset_ref)
            .join(grid.Premise, grid.Premise.transformer_id == grid.Device.id)
            .where(grid.Premise.ref == premise.ref)
        )
        assert transformer is not None
        for restored in (True, False):
            incident = open_incident(
                session,
                device_asset_ref=transformer,
                confidence=0.9,
                customers_affected=1,
                started_at=now - timedelta(hours=2),
                reason="enum words",
            )
            if restored:
                restore(session, incident, at=now - timedelta(hours=1), reason="enum words")
        closed: dict[DeviceKind, list[str]] = {}
        for device in sample_grid.devices:
            if device.kind in SWITCHING_KINDS and not device.normal_open:
                closed.setdefault(device.kind, []).append(device.asset_ref)
        kinds, sources = sorted(closed), list(SwitchSource)
        for n in range(max(len(kinds), len(sources))):
            kind = kinds[n % len(kinds)]
            operate(
                session,
                closed[kind][-1 - n],
                is_open=True,
                occurred_at=now - timedelta(minutes=10),
                source=sources[n % len(sources)],
                actor="điều độ viên",
                reason="thử",
            )
        for state in OrderState:
            session.add(
                SwitchingOrder(
                    title=f"Phiếu {len(state.value)}",
                    state=state,
                    created_by="điều độ viên",
                    checked={"ok": True},
                    checked_at=now,
                    version=1,
                )
            )
    return Seeded(premise, report.ticket, request_ticket)


STAFF_PAGES = ["/agent", "/agent/queue", "/switching", "/supervisor", "/dispatch", "/crew"]
PUBLIC_PAGES = ["/map", "/report", "/request", "/status", "/alerts", "/login"]


@pytest.mark.parametrize("path", STAFF_PAGES + PUBLIC_PAGES)
def test_a_vietnamese_page_shows_no_bare_enum_value(
    seeded: tuple[TestClient, Credentials, Seeded], path: str
) -> None:
    client, credentials, facts = seeded
    assert facts.customer.customer is not None
    account = facts.customer.customer.account
    params = {"lang": "vi", **({"q": account} if path == "/agent" else {})}
    headers = credentials.staff(Role.ADMIN) if path in STAFF_PAGES else {}
    page = client.get(path, params=params, headers=headers)
    assert page.status_code == 200, page.text
    assert _raw_words(page.text, [account]) == {}


@pytest.mark.parametrize("page", ["/status", "/request"])
def test_a_vietnamese_ticket_page_shows_no_bare_enum_value(
    seeded: tuple[TestClient, Credentials, Seeded], page: str
) -> None:
    client, _, facts = seeded
    assert facts.customer.customer is not None
    ticket = facts.report_ticket if page == "/status" else facts.request_ticket
    shown = client.post(
        f"{page}/{ticket}", data={"phone_last4": facts.customer.customer.phone[-4:], "lang": "vi"}
    )
    assert shown.status_code == 200, shown.text
    assert ticket in shown.text
    assert _raw_words(shown.text, []) == {}


SEEN = [
    ("/agent", "delivery_status", DeliveryStatus),
    ("/agent", "delivery_channel", DeliveryChannel),
    ("/switching", "order_state", OrderState),
    ("/switching", "switch_source", SwitchSource),
]


@pytest.mark.parametrize(("path", "table", "values"), SEEN)
def test_the_seed_shows_every_value_in_words(
    seeded: tuple[TestClient, Credentials, Seeded],
    path: str,
    table: str,
    values: type[StrEnum],
) -> None:
    """The pages above are checked with every value they can show on them."""
    client, credentials, facts = seeded
    assert facts.customer.customer is not None
    params = {"lang": "vi", "q": facts.customer.customer.account}
    page = client.get(path, params=params, headers=credentials.staff(Role.ADMIN)).text
    for value in values:
        words = re.escape(label(Language.VI, table, value))
        assert re.search(rf"[>(]{words}[<)]", page), value
