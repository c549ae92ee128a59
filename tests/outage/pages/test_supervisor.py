"""The supervisor dashboard over HTTP: charts as SVG, the breached list, escaped comments."""

import re
import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from grid_topology.model import Premise
from outage.care import owners, service
from outage.care.enums import RequestState, RequestType
from outage.care.schemas import OwnerIn, RequestIn
from outage.settings import get_settings

XSS = "<img src=x onerror=alert(1)>"


def _request(session: Session, premise: Premise, *, hours_ago: float) -> str:
    assert premise.customer is not None
    return service.submit_request(
        session,
        RequestIn(type=RequestType.BILLING_QUESTION, account=premise.customer.account),
        settings=get_settings(),
        now=datetime.now(UTC) - timedelta(hours=hours_ago),
    ).ticket


def test_a_request_past_its_target_is_on_the_dashboards_breached_list(
    supervisor_client: TestClient, session: Session, care_customer: Premise
) -> None:
    late = _request(session, care_customer, hours_ago=24 * 5)
    fresh = _request(session, care_customer, hours_ago=1)
    session.commit()
    page = supervisor_client.get("/supervisor", params={"lang": "en"})
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    listed = page.text.split('id="breached-list"', 1)[1].split("</table>", 1)[0]
    assert late in listed and fresh not in listed
    assert care_customer.customer is not None
    assert care_customer.customer.account in listed


def test_charts_are_svg_with_a_bar_per_age_bucket_and_no_inline_script(
    supervisor_client: TestClient,
) -> None:
    html = supervisor_client.get("/supervisor", params={"lang": "vi"}).text
    ages = html.split('id="ages-chart"', 1)[1].split("</figure>", 1)[0]
    assert "<svg" in ages
    assert len(re.findall(r'<rect class="bar series-0"', ages)) == 5
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert " style=" not in html
    assert 'id="saidi-chart"' in html, "the sample grid has customers: indices are charted"


def test_customer_comments_are_escaped(
    supervisor_client: TestClient, session: Session, care_customer: Premise
) -> None:
    ticket = _request(session, care_customer, hours_ago=2)
    service.transition(session, ticket, to=RequestState.IN_PROGRESS, reason=None, actor="t")
    service.transition(session, ticket, to=RequestState.DONE, reason=None, actor="t")
    service.rate_request(session, ticket, rating=1, comment=XSS)
    session.commit()
    html = supervisor_client.get("/supervisor").text
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_agents_may_not_see_the_dashboard(agent_client: TestClient) -> None:
    assert agent_client.get("/supervisor").status_code == 403


def _category_labels(html: str, chart_id: str) -> list[str]:
    chart = html.split(f'id="{chart_id}"', 1)[1].split("</figure>", 1)[0]
    return re.findall(r'<text class="category"[^>]*>([^<]*)</text>', chart)


def test_the_reliability_period_names_the_months_drawn(supervisor_client: TestClient) -> None:
    html = supervisor_client.get("/supervisor", params={"lang": "en"}).text
    months = _category_labels(html, "saidi-chart")
    period = html.split('id="reliability-period">', 1)[1].split("</p>", 1)[0]
    assert period.startswith(f"{len(months)} months, {months[0]} to {months[-1]} ")


def test_equal_med_lines_are_explained_when_there_was_no_major_event_day(
    supervisor_client: TestClient,
) -> None:
    html = supervisor_client.get("/supervisor", params={"lang": "en"}).text
    note = html.split('id="med-note">', 1)[1].split("</p>", 1)[0]
    assert "IEEE 1366" in note and "2.5 beta" in note
    assert "There was no Major Event Day in these 12 months" in note


def test_count_axes_tick_whole_numbers(supervisor_client: TestClient) -> None:
    html = supervisor_client.get("/supervisor", params={"lang": "en"}).text
    ages = html.split('id="ages-chart"', 1)[1].split("</figure>", 1)[0]
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', ages)
    assert ticks and all(tick.replace(",", "").isdigit() for tick in ticks)
    assert "Requests" in re.findall(r'<text class="unit"[^>]*>([^<]*)</text>', ages)


def test_agents_may_not_read_the_live_figures(agent_client: TestClient) -> None:
    assert agent_client.get("/supervisor/live.json").status_code == 403


def test_nobody_signed_out_reads_the_live_figures(anonymous_client: TestClient) -> None:
    assert anonymous_client.get("/supervisor/live.json").status_code == 401


def test_the_live_figures_answer_as_json_with_a_whole_number_chart(
    supervisor_client: TestClient,
) -> None:
    answer = supervisor_client.get("/supervisor/live.json", params={"lang": "en"})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    live = answer.json()
    assert set(live["crews"]) == {"free", "travelling", "on_site"}
    assert set(live["messages"]) == {"waiting", "retrying", "sending", "dead_recently"}
    assert live["incidents"][0]["status"] == "predicted"
    assert all(tick["label"].replace(",", "").isdigit() for tick in live["chart"]["ticks"])


def test_the_live_chart_title_names_the_hours_drawn(supervisor_client: TestClient) -> None:
    live = supervisor_client.get("/supervisor/live.json", params={"lang": "en"}).json()
    title = live["chart_title"]
    assert title.endswith(" to now (every 30 minutes)")
    start = datetime.strptime(title.removeprefix("Customers out, ")[:5], "%H:%M")
    first_hour = start if start.minute == 0 else start + timedelta(minutes=30)
    labelled = [c["label"] for c in live["chart"]["categories"] if c["label"]]
    assert labelled[0] == f"{first_hour:%H:%M}"


def test_the_page_shows_the_live_figures(supervisor_client: TestClient) -> None:
    live = supervisor_client.get("/supervisor/live.json").json()
    html = supervisor_client.get("/supervisor", params={"lang": "en"}).text
    shown = re.search(r'data-live="customers_out">([^<]*)<', html)
    assert shown is not None and shown.group(1) == f"{live['customers_out']:,}"
    assert 'id="customers-out-chart"' in html


def test_each_care_team_shows_its_late_work_and_escaped_poor_ratings(
    supervisor_client: TestClient, session: Session, care_customer: Premise
) -> None:
    team = f"team-{uuid.uuid4().hex[:8]}"
    owners.save_team(session, team, supervisor="sup-page")
    late = _request(session, care_customer, hours_ago=24 * 5)
    rated = _request(session, care_customer, hours_ago=2)
    for ticket in (late, rated):
        service.set_owner(session, ticket, OwnerIn(team=team), actor="t", settings=get_settings())
    service.transition(session, rated, to=RequestState.IN_PROGRESS, reason=None, actor="t")
    service.transition(session, rated, to=RequestState.DONE, reason=None, actor="t")
    service.rate_request(session, rated, rating=2, comment=XSS)
    session.commit()
    for lang, title in (("en", "Care teams"), ("vi", "Các nhóm chăm sóc")):
        html = supervisor_client.get("/supervisor", params={"lang": lang}).text
        section = html.split('id="teams"', 1)[1].split("</section>", 1)[0]
        assert title in section
        mine = section.split(f"<h3>{team}</h3>", 1)[1].split("</article>", 1)[0]
        overdue = mine.split("team-overdue", 1)[1].split("</table>", 1)[0]
        assert late in overdue and rated not in overdue
        low = mine.split("team-low", 1)[1].split("</ul>", 1)[0]
        assert rated in low and "2/5" in low
        assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in low
        assert "sup-page" in mine
