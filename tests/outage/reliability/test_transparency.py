"""The published figures (`/transparency`, `GET /api/v1/transparency/figures` and its
CSV) on the ten-customer grid: they agree with the reliability report and the supervisor
dashboard, they hold no personal data, and bad months are refused with the reason."""

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from outage import clock
from outage.app import create_app
from outage.auth.enums import Role
from outage.care import dashboard
from outage.care import service as care
from outage.care.enums import RequestState, RequestType
from outage.care.models import ServiceRequest
from outage.care.schemas import RequestIn
from outage.care.sla import target_of
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Premise
from outage.ledger import roots
from outage.reliability import service, transparency
from outage.settings import get_settings
from tests.conftest import issue_credentials, staff_client

from .conftest import F1_CUSTOMERS, SERVED, act, grid_database, on_site, outage, restore

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SECRET = "Nhà tôi ở hẻm 12 Lê Lợi, gọi 0912 000 111"
"""A request's description and comment: customer text no published figure may carry."""


def _months_ago(months: int) -> date:
    today = clock.now().astimezone(ZONE).date().replace(day=1)
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


LAST_MONTH = _months_ago(1)
"""The last complete month: the figures' default range ends with it."""


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(LAST_MONTH.replace(day=day), time(hour, minute), ZONE)


@dataclass(frozen=True)
class Published:
    anyone: TestClient
    supervisor: TestClient
    database_url: str


def _requests(url: str) -> None:
    """Billing questions received last month: one closed in time and rated, one closed
    late, one still open; their customers' text is SECRET."""
    settings = get_settings()
    target = target_of(settings.care_sla_hours, RequestType.BILLING_QUESTION)
    with session_scope(session_factory(url)) as session:
        for account, received, closed in (
            ("A1", local(2, 9), local(2, 11)),
            ("B1", local(3, 9), local(3, 9) + target + timedelta(hours=1)),
            ("C1", local(4, 9), None),
        ):
            ticket = care.submit_request(
                session,
                RequestIn(type=RequestType.BILLING_QUESTION, account=account, description=SECRET),
                settings=settings,
                now=received,
            ).ticket
            if closed is not None:
                for state in (RequestState.IN_PROGRESS, RequestState.DONE):
                    care.transition(session, ticket, to=state, reason=None, actor="t", now=closed)
                if account == "A1":
                    care.rate_request(session, ticket, rating=4, comment=SECRET, now=closed)


@pytest.fixture(scope="module")
def published(database_url: str) -> Iterator[Published]:
    """Last month: F1's breaker (B1-B3 back after 30 minutes, A1-A4 after 90), a momentary
    one on F2; and three billing questions."""
    with grid_database(database_url) as url:
        with session_scope(session_factory(url)) as session:
            incident = outage(session, "BR-1", local(10, 8))
            on_site(session, incident)
            act(session, incident, "partial_restore", restored_device="SW-B", at=local(10, 8, 30))
            restore(session, incident, local(10, 9, 30))
            restore(session, outage(session, "BR-2", local(13, 8)), local(13, 8, 2))
        _requests(url)
        app = create_app(url)
        credentials = issue_credentials(url, roles=[Role.SUPERVISOR], scopes=[])
        with TestClient(app) as anyone, staff_client(app, credentials, Role.SUPERVISOR) as staff:
            yield Published(anyone, staff, url)


def _system_month(body: dict[str, object], month: date) -> dict[str, object]:
    rows = [r for r in body["system"] if r["month"] == f"{month:%Y-%m}"]  # type: ignore[attr-defined]
    assert len(rows) == 1
    return rows[0]  # type: ignore[no-any-return]


def test_the_system_figures_of_a_month_are_the_reliability_reports(
    published: Published,
) -> None:
    body = published.anyone.get("/api/v1/transparency/figures").json()
    assert (body["first_month"], body["last_month"]) == (
        f"{_months_ago(12):%Y-%m}",
        f"{LAST_MONTH:%Y-%m}",
    )
    assert len(body["system"]) == 12
    month_end = _months_ago(0) - timedelta(days=1)
    report = published.supervisor.get(
        "/api/v1/reliability",
        params={"start": LAST_MONTH.isoformat(), "end": month_end.isoformat()},
    ).json()
    row = _system_month(body, LAST_MONTH)
    assert row["area"] is None and row["customers_served"] == SERVED
    assert row["saidi"] == pytest.approx(report["with_major_events"]["saidi"])
    assert row["saifi"] == pytest.approx(report["with_major_events"]["saifi"])
    assert row["caidi"] == pytest.approx(report["with_major_events"]["caidi"])
    assert row["saidi_without_med"] == pytest.approx(report["without_major_events"]["saidi"])
    assert row["saifi_without_med"] == pytest.approx(report["without_major_events"]["saifi"])
    assert row["planned_saidi"] == pytest.approx(report["planned"]["saidi"])
    assert row["planned_saifi"] == pytest.approx(report["planned"]["saifi"])
    assert row["major_event_days"] == report["major_event_days"]
    assert row["saidi"] == pytest.approx(45.0), "3 x 30 + 4 x 90 minutes over 10 customers"
    assert row["customer_interruptions"] == len(F1_CUSTOMERS)
    quiet = _system_month(body, _months_ago(2))
    assert quiet["saidi"] == 0 and quiet["caidi"] is None


def test_each_region_is_the_reliability_report_of_its_substation(published: Published) -> None:
    body = published.anyone.get("/api/v1/transparency/figures").json()
    month_end = _months_ago(0) - timedelta(days=1)
    assert {r["area"] for r in body["areas"]} == {"TBA Alpha", "TBA Beta"}
    for name in ("TBA Alpha", "TBA Beta"):
        report = published.supervisor.get(
            "/api/v1/reliability",
            params={"start": LAST_MONTH.isoformat(), "end": month_end.isoformat(), "region": name},
        ).json()
        (row,) = [
            r for r in body["areas"] if r["area"] == name and r["month"] == f"{LAST_MONTH:%Y-%m}"
        ]
        assert row["customers_served"] == report["customers_served"]
        assert row["saidi"] == pytest.approx(report["with_major_events"]["saidi"])
        assert row["saifi"] == pytest.approx(report["with_major_events"]["saifi"])


def test_the_system_figures_are_the_supervisor_dashboards(published: Published) -> None:
    """The dashboard charts `monthly_indices` of its months; the page shows the same
    values for the months both cover."""
    figures = published.anyone.get("/api/v1/transparency/figures").json()
    now = clock.now()
    with session_scope(session_factory(published.database_url)) as session:
        months = service.monthly_indices(
            session, _months_ago(11), now.astimezone(ZONE).date(), zone=ZONE, as_of=now
        )
    charted = {f"{m.month:%Y-%m}": m for m in months}
    shared = [r for r in figures["system"] if r["month"] in charted]
    assert len(shared) == 11
    for row in shared:
        month = charted[row["month"]]
        assert row["saidi"] == pytest.approx(month.with_major_events.saidi)
        assert row["saifi"] == pytest.approx(month.with_major_events.saifi)
        assert row["saidi_without_med"] == pytest.approx(month.without_major_events.saidi)
    page = published.supervisor.get("/supervisor", params={"lang": "en"}).text
    saidi = page.split('id="saidi-chart"', 1)[1].split("</figure>", 1)[0]
    label = f"{LAST_MONTH:%m/%y}"
    shown = re.search(rf"<title>All days, {re.escape(label)}: ([^<]*)</title>", saidi)
    assert shown is not None
    assert shown.group(1) == f"{_system_month(figures, LAST_MONTH)['saidi']:,.1f}"


def test_the_care_figures_are_the_dashboards_for_the_month(published: Published) -> None:
    body = published.anyone.get("/api/v1/transparency/figures").json()
    (billing,) = [
        r
        for r in body["care"]
        if r["type"] == "billing_question" and r["month"] == f"{LAST_MONTH:%Y-%m}"
    ]
    since = datetime.combine(LAST_MONTH, time(), ZONE)
    until = datetime.combine(_months_ago(0), time(), ZONE)
    with session_scope(session_factory(published.database_url)) as session:
        compliance = {
            row.type: row
            for row in dashboard.sla_compliance(session, since=since, until=until, now=clock.now())
        }
        mood = dashboard.satisfaction(session, since=since, until=until)
    row = compliance[RequestType.BILLING_QUESTION]
    assert (billing["closed"], billing["closed_within_sla"]) == (row.closed, row.met) == (2, 1)
    assert billing["share_within_sla"] == pytest.approx(row.share)
    assert billing["received"] == 3
    assert billing["ratings"] == mood.count == 1
    assert billing["mean_rating"] == pytest.approx(mood.mean)
    target = target_of(get_settings().care_sla_hours, RequestType.BILLING_QUESTION)
    hours = (2 + target / timedelta(hours=1) + 1) / 2
    assert billing["median_hours_to_close"] == pytest.approx(hours)
    months = {r["month"] for r in body["care"]}
    assert len(months) == 12
    assert len(body["care"]) == 12 * len(RequestType)


def test_the_csv_has_a_row_per_area_month_and_per_type_month(published: Published) -> None:
    answer = published.anyone.get("/api/v1/transparency/figures.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 12 * 3, "the system and two regions, 12 months each"
    (last,) = [r for r in rows if r["area"] == "" and r["month"] == f"{LAST_MONTH:%Y-%m}"]
    assert float(last["saidi"]) == pytest.approx(45.0)
    care_rows = list(
        csv.DictReader(
            io.StringIO(
                published.anyone.get(
                    "/api/v1/transparency/figures.csv", params={"table": "care"}
                ).text
            )
        )
    )
    assert len(care_rows) == 12 * len(RequestType)
    assert {"type", "month", "received", "closed_within_sla", "mean_rating"} <= set(care_rows[0])


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"first": "2025-13"}, "is not a month"),
        ({"last": "yesterday"}, "is not a month"),
        ({"first": "2024-05", "last": "2024-01"}, "before it starts"),
        ({"first": "2020-01", "last": "2024-01"}, "at most 24 months"),
        ({"last": "2999-01"}, "is not over yet"),
    ],
)
def test_bad_months_are_422_with_the_reason(
    published: Published, params: dict[str, str], reason: str
) -> None:
    answer = published.anyone.get("/api/v1/transparency/figures", params=params)
    assert answer.status_code == 422
    assert reason in answer.json()["detail"]
    page = published.anyone.get("/transparency", params={**params, "lang": "en"})
    assert page.status_code == 422
    assert 'id="refused"' in page.text


def test_a_chosen_range_is_published(published: Published) -> None:
    first = _months_ago(3)
    body = published.anyone.get(
        "/api/v1/transparency/figures",
        params={"first": f"{first:%Y-%m}", "last": f"{LAST_MONTH:%Y-%m}"},
    ).json()
    assert [r["month"] for r in body["system"]] == [f"{_months_ago(n):%Y-%m}" for n in (3, 2, 1)]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_page_shows_the_figures_in_its_language(published: Published, language: str) -> None:
    answer = published.anyone.get("/transparency", params={"lang": language})
    assert answer.status_code == 200
    assert answer.headers["content-language"] == language
    assert answer.headers["cache-control"].startswith("public")
    text = answer.text
    assert 'id="system-table"' in text and 'id="saidi-chart"' in text
    assert f"{LAST_MONTH:%m/%Y}" in text
    assert "45.0" in text
    assert "TBA Alpha" in text and "TBA Beta" in text
    assert 'href="/api/v1/transparency/roots"' in text
    assert re.search(r"<script(?![^>]*\bsrc=)", text) is None
    assert " style=" not in text
    title = "Service figures" if language == "en" else "Số liệu dịch vụ"
    assert f"<h1>{title}</h1>" in text


def test_nothing_published_carries_personal_data(published: Published) -> None:
    """Customers' names, phones, accounts, addresses and premises, a request's text and a
    rating's comment: none is on the page, in the JSON or in either CSV."""
    with session_scope(session_factory(published.database_url)) as session:
        people = session.execute(
            select(
                Customer.account, Customer.name, Customer.phone, Premise.ref, Premise.address
            ).join(Premise, Premise.id == Customer.premise_id)
        ).all()
        tickets = list(session.scalars(select(ServiceRequest.ticket)))
    values = [str(v) for row in people for v in row if v and len(str(v)) > 4]
    traces = [*values, *tickets, SECRET, "Lê Lợi"]
    traces += [p.removeprefix("+84") for _, _, p, _, _ in people if p]
    client = published.anyone
    bodies = [
        html.unescape(client.get("/transparency", params={"lang": "vi"}).text),
        html.unescape(client.get("/transparency", params={"lang": "en"}).text),
        json.dumps(client.get("/api/v1/transparency/figures").json(), ensure_ascii=False),
        client.get("/api/v1/transparency/figures.csv").text,
        client.get("/api/v1/transparency/figures.csv", params={"table": "care"}).text,
    ]
    assert len(tickets) == 3
    for body in bodies:
        for trace in traces:
            assert trace not in body, trace


def test_the_page_shows_the_latest_daily_roots(published: Published) -> None:
    with session_scope(session_factory(published.database_url)) as session:
        made = roots.make_root(session, LAST_MONTH, clock.now(), None)
        assert made is not None
        root = made.root
    text = published.anyone.get("/transparency", params={"lang": "en"}).text
    listed = text.split('id="roots-table"', 1)[1].split("</table>", 1)[0]
    assert LAST_MONTH.isoformat() in listed and root in listed
    assert "Not signed" in listed


@pytest.fixture(scope="module")
def stormy(database_url: str) -> Iterator[Published]:
    """Two years of small outages on F2, then the same long outage on F1 three months ago
    (a Major Event Day by the threshold of the five years before its month) and last
    month (not one: the first is in its history)."""
    with grid_database(database_url) as url:
        with session_scope(session_factory(url)) as session:
            for days_before in (700, 690, 680, 400):
                start = datetime.combine(
                    _months_ago(3) - timedelta(days=days_before), time(8), ZONE
                )
                restore(session, outage(session, "BR-2", start), start + timedelta(minutes=20))
            for month in (_months_ago(3), LAST_MONTH):
                start = datetime.combine(month.replace(day=5), time(8), ZONE)
                restore(session, outage(session, "BR-1", start), start + timedelta(hours=4))
        app = create_app(url)
        credentials = issue_credentials(url, roles=[Role.SUPERVISOR], scopes=[])
        with TestClient(app) as anyone, staff_client(app, credentials, Role.SUPERVISOR) as staff:
            yield Published(anyone, staff, url)


def test_each_months_major_event_days_are_those_of_that_months_report(
    stormy: Published,
) -> None:
    body = stormy.anyone.get(
        "/api/v1/transparency/figures",
        params={"first": f"{_months_ago(4):%Y-%m}", "last": f"{LAST_MONTH:%Y-%m}"},
    ).json()
    with session_scope(session_factory(stormy.database_url)) as session:
        dashboard_months = service.monthly_indices(
            session, _months_ago(4), LAST_MONTH.replace(day=28), zone=ZONE
        )
    for months_ago, months in zip(range(4, 0, -1), dashboard_months, strict=True):
        month = _months_ago(months_ago)
        last_day = _months_ago(months_ago - 1) - timedelta(days=1)
        report = stormy.supervisor.get(
            "/api/v1/reliability", params={"start": month.isoformat(), "end": last_day.isoformat()}
        ).json()
        row = _system_month(body, month)
        assert row["major_event_days"] == report["major_event_days"]
        assert row["saidi_without_med"] == pytest.approx(report["without_major_events"]["saidi"])
        assert months.major_event_dates == tuple(
            date.fromisoformat(d) for d in report["major_event_days"]
        )
        assert months.without_major_events.saidi == pytest.approx(
            report["without_major_events"]["saidi"]
        )
    assert _system_month(body, _months_ago(3))["major_event_days"] != []
    assert _system_month(body, LAST_MONTH)["major_event_days"] == [], (
        "the long outage of three months ago is in last month's history: its threshold rose"
    )


def test_a_region_of_fewer_customers_than_a_map_area_is_not_published_apart(
    published: Published,
) -> None:
    with session_scope(session_factory(published.database_url)) as session:
        figures = transparency.published_figures(session, zone=ZONE, min_customers=4)
    assert {a.area for a in figures.areas} == {"TBA Alpha"}
    assert figures.system[-1].customers_served == SERVED
