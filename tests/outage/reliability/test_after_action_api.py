"""`GET /api/v1/after-action` (JSON and CSV) and the `/after-action` page, on the
ten-customer grid with one storm in March 2025: F1's breaker out at 08:00, a crew on it
from 08:30, an ETR of 09:00 that lapsed, back at 09:30."""

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.incidents.enums import AuditAction
from outage.incidents.models import IncidentEvent
from outage.reliability.replay import MAX_CREWS
from outage.storms.enums import StormAction, StormPhase
from outage.storms.models import Storm, StormEvent
from tests.conftest import issue_credentials, make_crew, staff_client

from .conftest import grid_database, outage, restore

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
XSS = "<img src=x onerror=alert(1)>"
DAY = {"start": "2025-03-10", "end": "2025-03-10"}
REPLAY = "/api/v1/after-action/replay"


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, 10, hour, minute, tzinfo=ZONE)


@pytest.fixture(scope="module")
def clients(database_url: str) -> Iterator[tuple[TestClient, TestClient, int]]:
    """A supervisor's and an agent's clients, and the storm's id."""
    with grid_database(database_url) as url:
        with session_scope(session_factory(url)) as session:
            crew = make_crew(session, XSS, shifts=[{"starts_at": local(6), "ends_at": local(14)}])
            incident = outage(session, "BR-1", local(8))
            for action, at, details in (
                (AuditAction.ASSIGNED, local(8, 30), {"crew_id": crew}),
                (AuditAction.ETR_SET, local(8, 5), {"etr": local(9).isoformat()}),
            ):
                session.add(
                    IncidentEvent(
                        incident_id=incident, actor="t", action=action, at=at, details=details
                    )
                )
            restore(session, incident, local(9, 30))
            storm = Storm(
                name=XSS,
                level=2,
                phase=StormPhase.JOB,
                declared_at=local(7),
                declared_by="t",
                ended_at=local(12),
            )
            session.add(storm)
            session.flush()
            storm_id = storm.id
            session.add(
                StormEvent(
                    storm_id=storm_id,
                    at=local(7),
                    actor="t",
                    action=StormAction.DECLARED,
                    details={"name": XSS, "level": 2, "phase": "job"},
                )
            )
        credentials = issue_credentials(url, roles=[Role.SUPERVISOR, Role.AGENT], scopes=[])
        app = create_app(url)
        with (
            staff_client(app, credentials, Role.SUPERVISOR) as supervisor,
            staff_client(app, credentials, Role.AGENT) as agent,
        ):
            yield supervisor, agent, storm_id


@pytest.fixture
def client(clients: tuple[TestClient, TestClient, int]) -> TestClient:
    return clients[0]


def test_the_report_of_a_day_answers_as_json(client: TestClient) -> None:
    answer = client.get("/api/v1/after-action", params=DAY)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["timeline"]) == 24
    assert body["timeline"][9]["customers_out"] == 7
    assert (body["etr"]["told"], body["etr"]["median_abs_error_minutes"]) == (1, 30.0)
    assert body["etr"]["lapsed_incidents"] == 1
    [crew] = body["crews"]
    assert (crew["shift_hours"], crew["job_hours"]) == (8.0, 1.0)


def test_the_report_of_a_storm_covers_its_time(
    clients: tuple[TestClient, TestClient, int],
) -> None:
    client, _, storm = clients
    body = client.get("/api/v1/after-action", params={"storm": storm}).json()
    assert body["storm"]["name"] == XSS
    assert len(body["timeline"]) == 5
    assert datetime.fromisoformat(body["start"]) == local(7)


def test_the_csv_is_one_long_table(client: TestClient) -> None:
    answer = client.get("/api/v1/after-action.csv", params=DAY)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "after-action-2025-03-10" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["section", "item", "measure", "value"]
    assert {row[0] for row in rows[1:]} >= {"period", "timeline", "crew", "etr", "told"}
    assert ["etr", "all", "lapsed_incidents", "1"] in rows
    crew = [row for row in rows if row[0] == "crew"]
    assert crew and all(row[1] == XSS for row in crew)


def test_the_replay_of_a_storm_with_its_crews_gives_back_its_customer_minutes(
    clients: tuple[TestClient, TestClient, int],
) -> None:
    client, _, storm = clients
    answer = client.get(REPLAY, params={"storm": storm})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["recorded_customer_minutes"] == body["customer_minutes"] == 7 * 90
    assert (body["storm_id"], body["policy"], body["crews"], body["change"]) == (
        storm,
        "recorded",
        1,
        0.0,
    )
    [job] = body["jobs"]
    assert datetime.fromisoformat(job["replayed_at"]) == datetime.fromisoformat(job["recorded_at"])


def test_the_replay_exports_as_one_long_csv(clients: tuple[TestClient, TestClient, int]) -> None:
    client, _, storm = clients
    answer = client.get(f"{REPLAY}.csv", params={"storm": storm, "crews": 0})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["section", "item", "measure", "value"]
    assert ["replay", "all", "customer_minutes", str(7 * 4 * 60.0)] in rows
    assert [row[2:] for row in rows if row[0] == "job"][-1] == ["replayed_at", ""]


def test_the_replay_without_crews_leaves_the_outage_on_to_the_storms_end(
    clients: tuple[TestClient, TestClient, int],
) -> None:
    client, _, storm = clients
    body = client.get(REPLAY, params={"storm": storm, "crews": 0, "policy": "planner"}).json()
    assert body["customer_minutes"] == 7 * 4 * 60
    assert body["jobs"][0]["crew_id"] is None


@pytest.mark.parametrize(
    ("params", "reason"),
    [({**DAY, "crews": "-1"}, "crews"), ({**DAY, "policy": "luck"}, "policy")],
)
def test_a_replay_with_bad_options_is_refused(
    client: TestClient, params: dict[str, str], reason: str
) -> None:
    answer = client.get(REPLAY, params=params)
    assert answer.status_code == 422
    assert reason in answer.text


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"start": "2025-03-11", "end": "2025-03-10"}, 422, "before it starts"),
        ({"start": "2025-01-01", "end": "2025-03-31"}, 422, "62 days"),
        ({"storm": "2000000"}, 404, "no storm"),
        ({"start": "2025-03-10"}, 422, "a period with a start and an end"),
        ({"start": "yesterday", "end": "2025-03-10"}, 422, "neither a date"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    client: TestClient, params: dict[str, str], status: int, reason: str
) -> None:
    for path in ("/api/v1/after-action", "/api/v1/after-action.csv", REPLAY):
        answer = client.get(path, params=params)
        assert answer.status_code == status
        assert reason in answer.json()["detail"]


def test_agents_may_not_read_the_report(clients: tuple[TestClient, TestClient, int]) -> None:
    _, agent, _ = clients
    assert agent.get("/api/v1/after-action", params=DAY).status_code == 403
    assert agent.get(REPLAY, params=DAY).status_code == 403
    assert agent.get("/after-action", params=DAY).status_code == 403


@pytest.mark.parametrize(
    ("lang", "title"), [("en", "After-action report"), ("vi", "Báo cáo sau sự cố")]
)
def test_the_page_draws_its_charts_in_either_language(
    client: TestClient, lang: str, title: str
) -> None:
    page = client.get("/after-action", params={**DAY, "lang": lang})
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert f"<h1>{title}</h1>" in html
    for chart in ("customers-out-chart", "flow-chart", "crews-chart", "etr-errors-chart"):
        figure = html.split(f'id="{chart}"', 1)[1].split("</figure>", 1)[0]
        assert "<svg" in figure, chart
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert 'id="lapses-table"' in html


def test_the_page_escapes_the_storms_and_crews_names(
    clients: tuple[TestClient, TestClient, int],
) -> None:
    client, _, storm = clients
    html = client.get("/after-action", params={"storm": storm, "lang": "en"}).text
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_page_without_a_period_shows_the_last_day(client: TestClient) -> None:
    page = client.get("/after-action", params={"lang": "en"})
    assert page.status_code == 200
    assert 'id="customers-out-chart"' in page.text


def test_the_page_says_why_it_refuses_a_period(client: TestClient) -> None:
    page = client.get(
        "/after-action", params={"start": "2025-03-11", "end": "2025-03-10", "lang": "en"}
    )
    assert page.status_code == 422
    assert 'id="refusal"' in page.text and "must end after it starts" in page.text


def test_the_page_says_in_vietnamese_that_a_storm_is_unknown(client: TestClient) -> None:
    page = client.get("/after-action", params={"storm": "2000000", "lang": "vi"})
    assert page.status_code == 404
    assert "không có cơn bão này" in page.text


def test_the_page_lists_the_storms_steps(clients: tuple[TestClient, TestClient, int]) -> None:
    client, _, storm = clients
    html = client.get("/after-action", params={"storm": storm, "lang": "en"}).text
    marks = html.split('id="storm-marks">', 1)[1].split("</ul>", 1)[0]
    assert "Declared" in marks and "level 2" in marks and "each outage&#39;s own time" in marks


def _replay_section(html: str) -> str:
    return html.split('id="replay"', 1)[1].split("</section>", 1)[0]


def _figure(html: str, figure: str) -> str:
    return html.split(f'id="{figure}"', 1)[1].split('class="value">', 1)[1].split("</p>", 1)[0]


def test_the_page_replays_only_when_asked(clients: tuple[TestClient, TestClient, int]) -> None:
    client, _, storm = clients
    html = client.get("/after-action", params={"storm": storm, "lang": "en"}).text
    section = _replay_section(html)
    assert 'id="replay-form"' in section
    assert f'name="storm" value="{storm}"' in section
    assert 'name="replay_crews"' in section and 'name="replay_policy"' in section
    assert 'id="replay-minutes"' not in section and 'id="replay-jobs"' not in section


def test_the_replay_form_keeps_the_period(client: TestClient) -> None:
    section = _replay_section(client.get("/after-action", params={**DAY, "lang": "en"}).text)
    assert 'name="start" value="2025-03-10"' in section
    assert 'name="end" value="2025-03-10"' in section
    assert 'name="storm"' not in section


@pytest.mark.parametrize(
    ("lang", "title", "minutes"),
    [("en", "Recorded customer-minutes", "630"), ("vi", "Khách hàng-phút thực tế", "630")],
)
def test_the_replay_with_the_recorded_crews_gives_back_the_recorded_minutes(
    clients: tuple[TestClient, TestClient, int], lang: str, title: str, minutes: str
) -> None:
    client, _, storm = clients
    page = client.get(
        "/after-action", params={"storm": storm, "lang": lang, "replay_policy": "recorded"}
    )
    assert page.status_code == 200, page.text
    section = _replay_section(page.text)
    assert title in section
    assert _figure(section, "replay-recorded-minutes") == _figure(section, "replay-minutes")
    assert _figure(section, "replay-minutes") == minutes
    assert _figure(section, "replay-change") == "0%"
    assert _figure(section, "replay-crews-used") == "1 → 1"


def test_the_replay_without_crews_leaves_the_job_not_done(
    clients: tuple[TestClient, TestClient, int],
) -> None:
    client, _, storm = clients
    page = client.get(
        "/after-action",
        params={"storm": storm, "lang": "en", "replay_crews": "0", "replay_policy": "planner"},
    )
    assert page.status_code == 200, page.text
    section = _replay_section(page.text)
    assert _figure(section, "replay-minutes") == "1,680"
    assert _figure(section, "replay-change") == "+166.7%"
    row = section.split('id="replay-jobs"', 1)[1].split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert "no crew" in row and "not done" in row


def test_the_replay_with_more_crews_counts_the_added_ones(
    clients: tuple[TestClient, TestClient, int],
) -> None:
    client, _, storm = clients
    html = client.get(
        "/after-action", params={"storm": storm, "lang": "vi", "replay_crews": "2"}
    ).text
    assert _figure(_replay_section(html), "replay-crews-used") == "1 → 2"


@pytest.mark.parametrize(
    ("replay", "reason"),
    [
        ({"replay_crews": "abc"}, f"the crews must be a whole number from 0 to {MAX_CREWS}"),
        ({"replay_crews": "-1"}, f"the crews must be a whole number from 0 to {MAX_CREWS}"),
        ({"replay_crews": "9999"}, f"the crews must be a whole number from 0 to {MAX_CREWS}"),
        ({"replay_policy": "luck"}, "pick the recorded rule or the planner"),
    ],
)
def test_the_page_says_why_it_refuses_a_replay_and_still_shows_the_report(
    client: TestClient, replay: dict[str, str], reason: str
) -> None:
    page = client.get("/after-action", params={**DAY, "lang": "en", **replay})
    assert page.status_code == 422
    refusal = page.text.split('id="replay-refusal"', 1)[1].split("</p>", 1)[0]
    assert reason in refusal
    assert 'id="refusal"' not in page.text
    for chart in ("customers-out-chart", "flow-chart", "crews-chart"):
        assert f'id="{chart}"' in page.text
    assert 'id="replay-jobs"' not in page.text


def test_the_page_says_in_vietnamese_why_it_refuses_a_replay(client: TestClient) -> None:
    page = client.get("/after-action", params={**DAY, "lang": "vi", "replay_crews": "abc"})
    assert page.status_code == 422
    assert f"số đội phải là số nguyên từ 0 đến {MAX_CREWS}" in page.text
