"""The crew page as served: who sees it, what a job card holds, and that text is escaped."""

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape as html_escape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from grid_topology.model import SWITCHING_KINDS, DeviceKind, GridModel
from outage.app import create_app
from outage.auth import service as auth
from outage.auth.enums import Role, SessionKind
from outage.clock import Clock
from outage.db import session_factory, session_scope
from outage.i18n import hazard_label
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident, set_etr
from outage.incidents.enums import Action
from outage.incidents.schemas import IncidentPatch
from outage.intake.enums import Hazard
from outage.media.models import Photo
from outage.pages.crew import FAULT_SUGGESTIONS, SUGGESTED
from tests.conftest import STAFF_PASSWORD, Credentials, make_crew, plan_first_visit
from tests.outage.media import pictures


@pytest.fixture(scope="module")
def crew_page_client(grid_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(grid_database)) as client:
        yield client


def _crew_with_a_job(database_url: str, device: str) -> tuple[dict[str, str], int, int]:
    """A crew on shift with a member (bearer headers) and one hazard job on `device`."""
    now = datetime.now(UTC)
    with session_scope(session_factory(database_url)) as session:
        crew_id = make_crew(session)
        user = f"crew-page-{uuid.uuid4().hex[:8]}"
        auth.create_user(
            session, username=user, password=STAFF_PASSWORD, role=Role.CREW, crew_id=crew_id
        )
        token = auth.open_session(
            session, username=user, kind=SessionKind.BEARER, now=now, lifetime=timedelta(hours=1)
        ).token
        incident = open_incident(
            session,
            device_asset_ref=device,
            hazard=Hazard.WIRES_DOWN,
            confidence=0.9,
            customers_affected=42,
            started_at=now - timedelta(minutes=20),
            reason="crew page test",
        )
        apply_action(
            session, incident, IncidentPatch(action=Action.ASSIGN, crew_id=crew_id), "test"
        )
    return {"Authorization": f"Bearer {token}"}, crew_id, incident


def _fuse(sample_grid: GridModel, n: int) -> str:
    return [d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE][n]


def test_signed_out_the_crew_page_leads_to_the_login(crew_page_client: TestClient) -> None:
    answer = crew_page_client.get("/crew?lang=en", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?")


def test_a_crew_member_sees_their_job_with_the_buttons(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    headers, _, incident = _crew_with_a_job(grid_database, _fuse(sample_grid, 0))
    page = crew_page_client.get("/crew?lang=en", headers=headers)
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert f'id="job-{incident}"' in html
    assert html_escape(hazard_label("en", Hazard.WIRES_DOWN)) in html
    assert ">42<" in html
    assert 'href="geo:' in html and "openstreetmap.org/directions?to=" in html
    assert '<details class="job-sketch">' in html, "the map, folded away"
    for button in ("en_route", "on_site", "help"):
        assert f'data-action="{button}"' in html
    assert '<script src="/static/crew.js" defer></script>' in html
    assert "<script>" not in html


SUGGESTION = re.compile(r'<option value="([^"]+)" label="([^"]+)"></option>')


def test_the_switching_form_suggests_the_switchable_devices_nearest_the_jobs(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    fuse = _fuse(sample_grid, 3)
    headers, _, _ = _crew_with_a_job(grid_database, fuse)
    html = crew_page_client.get("/crew?lang=en", headers=headers).text
    assert 'id="switch-form"' in html and 'list="switch-devices"' in html
    suggested = dict(SUGGESTION.findall(html))
    assert html_escape(fuse) in suggested
    assert suggested[html_escape(fuse)] == "Fuse · closed now"
    kinds = {html_escape(d.asset_ref): d.kind for d in sample_grid.devices}
    assert all(kinds[ref] in SWITCHING_KINDS for ref in suggested)
    assert 1 < len(suggested) <= SUGGESTED


def test_a_jobs_fault_form_is_offered_with_the_devices_at_and_below_its_device(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    fuse = _fuse(sample_grid, 1)
    headers, _, incident = _crew_with_a_job(grid_database, fuse)
    html = crew_page_client.get("/crew?lang=en", headers=headers).text
    assert f'list="found-devices-{incident}"' in html

    answer = crew_page_client.get(f"/crew/jobs/{incident}/devices", headers=headers)

    assert answer.status_code == 200, answer.text
    devices = answer.json()
    assert devices[0] == {"asset_ref": fuse, "kind": "fuse"}
    assert "line" in {device["kind"] for device in devices[1:]}
    assert len(devices) <= FAULT_SUGGESTIONS


def test_another_crews_job_has_no_devices_to_offer(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    _, _, incident = _crew_with_a_job(grid_database, _fuse(sample_grid, 2))
    headers, _, _ = _crew_with_a_job(grid_database, _fuse(sample_grid, 4))

    answer = crew_page_client.get(f"/crew/jobs/{incident}/devices", headers=headers)

    assert answer.status_code == 404


def test_a_jobs_sketch_draws_the_network_around_it_and_the_crew(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    fuse = _fuse(sample_grid, 5)
    headers, crew_id, _ = _crew_with_a_job(grid_database, fuse)
    here = next(d.path[0] for d in sample_grid.devices if d.asset_ref == fuse)
    sent = crew_page_client.post(
        f"/api/v1/crews/{crew_id}/position",
        headers=headers,
        json={
            "lon": here[0],
            "lat": here[1] + 0.0005,
            "recorded_at": datetime.now(UTC).isoformat(),
        },
    )
    assert sent.status_code < 300, sent.text
    html = crew_page_client.get("/crew?lang=en", headers=headers).text
    assert f'<g class="net fuse job"><title>{html_escape(fuse)}</title>' in html
    assert '<g class="net line"><title>' in html and "<polyline points=" in html
    assert '<circle class="crew" cx="0.0" cy="-55.7"' in html


def test_the_planned_arrival_is_shown_until_the_crew_is_on_site(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    headers, crew_id, incident = _crew_with_a_job(grid_database, _fuse(sample_grid, 6))
    with session_scope(session_factory(grid_database)) as session:
        plan_first_visit(session, crew_id, incident, datetime.now(UTC) + timedelta(minutes=30))
    assert 'class="job-arrival"' in crew_page_client.get("/crew?lang=en", headers=headers).text
    with session_scope(session_factory(grid_database)) as session:
        apply_action(session, incident, IncidentPatch(action=Action.ON_SITE), "test")
    html = crew_page_client.get("/crew?lang=en", headers=headers).text
    assert "Planned arrival" not in html and 'class="job-arrival"' not in html


def test_a_jobs_etr_is_shown_with_its_range(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    headers, _, incident = _crew_with_a_job(grid_database, _fuse(sample_grid, 3))
    etr = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    earliest, latest = etr - timedelta(minutes=45), etr + timedelta(hours=1)
    with session_scope(session_factory(grid_database)) as session:
        set_etr(session, incident, etr=etr, likely=(earliest, latest))
    html = crew_page_client.get("/crew?lang=en", headers=headers).text
    zone = crew_page_client.app.state.settings.local_timezone
    assert f"(likely between {earliest.astimezone(zone):%H:%M}" in html  # a date past midnight


def test_the_vietnamese_page_names_device_kinds_and_one_unknown_cause_in_vietnamese(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    fuse = _fuse(sample_grid, 7)
    headers, _, _ = _crew_with_a_job(grid_database, fuse)
    html = crew_page_client.get("/crew?lang=vi", headers=headers).text
    assert f"{html_escape(fuse)} (Cầu chì)" in html
    assert "(fuse)" not in html and "fuse · " not in html
    causes = re.findall(r'<option value="([^"]*)">([^<]*)</option>', html)
    assert ("unknown", "Không rõ") in causes
    assert [text for _, text in causes].count("Không rõ") == 1
    assert not any("Chưa rõ" in text for _, text in causes)


def test_text_from_the_network_is_escaped(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    headers, crew_id, _ = _crew_with_a_job(grid_database, _fuse(sample_grid, 1))
    with session_scope(session_factory(grid_database)) as session:
        session.execute(
            text("UPDATE crews SET name = :name WHERE id = :id"),
            {"name": "<img src=x onerror=alert(1)>", "id": crew_id},
        )
    html = crew_page_client.get("/crew?lang=vi", headers=headers).text
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_staff_without_a_crew_are_told_so(
    crew_page_client: TestClient, credentials: Credentials
) -> None:
    page = crew_page_client.get("/crew?lang=en", headers=credentials.staff(Role.ADMIN))
    assert page.status_code == 200
    assert "This account belongs to no crew." in page.text


def test_other_roles_may_not_see_the_crew_page(
    crew_page_client: TestClient, credentials: Credentials
) -> None:
    page = crew_page_client.get("/crew", headers=credentials.staff(Role.AGENT))
    assert page.status_code == 403


THUMBNAIL = re.compile(r'<img src="(/api/v1/photos/\d+/thumbnail)" alt="Photo 1 of the job"')


def test_a_crew_member_adds_a_photo_to_their_job_and_sees_its_thumbnail(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    headers, _, incident = _crew_with_a_job(grid_database, _fuse(sample_grid, 5))
    photo = {"photo": ("damage.jpg", pictures.jpeg_with_gps(), "image/jpeg")}
    sent = crew_page_client.post(
        f"/crew/jobs/{incident}/photos?lang=en",
        files=photo,
        headers=headers,
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/crew?lang=en&photo=added#job-{incident}"
    html = crew_page_client.get("/crew?lang=en&photo=added", headers=headers).text
    assert "The photo was kept." in html
    [thumbnail] = THUMBNAIL.findall(html)
    served = crew_page_client.get(thumbnail, headers=headers)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"


def test_a_photo_for_another_crews_job_is_refused_and_not_kept(
    crew_page_client: TestClient, grid_database: str, sample_grid: GridModel
) -> None:
    _, _, theirs = _crew_with_a_job(grid_database, _fuse(sample_grid, 6))
    headers, _, _ = _crew_with_a_job(grid_database, _fuse(sample_grid, 7))
    photo = {"photo": ("damage.jpg", pictures.picture(), "image/jpeg")}
    sent = crew_page_client.post(
        f"/crew/jobs/{theirs}/photos", files=photo, headers=headers, follow_redirects=False
    )
    assert sent.status_code == 303
    assert "photo=404" in sent.headers["location"]
    with session_scope(session_factory(grid_database)) as session:
        assert session.scalar(select(func.count()).where(Photo.incident_id == theirs)) == 0


def test_on_a_scaled_clock_the_page_gives_its_script_the_clock(
    grid_database: str, sample_grid: GridModel, scaled_clock: Clock
) -> None:
    """A phone reports positions and switching times in the service's time, not its own."""
    headers, _, _ = _crew_with_a_job(grid_database, _fuse(sample_grid, 5))
    with TestClient(create_app(grid_database)) as client:
        html = client.get("/crew?lang=en", headers=headers).text
    assert f'data-clock-epoch="{scaled_clock.epoch.isoformat()}"' in html
    assert f'data-clock-speed="{scaled_clock.speed}"' in html
