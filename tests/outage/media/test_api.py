"""The photos' routes: a reporter adds one by ticket, refusals store nothing, only staff
see them (with headers that keep a browser from running them), crews add theirs."""

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from sqlalchemy import func, select, update

from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.intake.models import Report
from outage.media.models import Photo
from outage.settings import get_settings
from tests.conftest import Credentials, make_crew
from tests.outage.media import pictures


def filed(anyone: TestClient) -> str:
    answer = anyone.post("/api/v1/reports", json={"address": "beside the market, lot 12"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["ticket"])


def send(anyone: TestClient, ticket: str, data: bytes, name: str = "photo.jpg") -> Response:
    return anyone.post(
        f"/api/v1/reports/{ticket}/photos", files={"photo": (name, data, "image/jpeg")}
    )


def uploaded(anyone: TestClient, media_database: str, ticket: str, data: bytes) -> int:
    """Send a photo as its reporter; its id, which the reporter is not told."""
    answer = send(anyone, ticket, data)
    assert answer.status_code == 201, answer.text
    assert answer.json()["id"] is None
    with session_scope(session_factory(media_database)) as db:
        newest = (
            select(Photo.id)
            .join(Report, Report.id == Photo.report_id)
            .where(Report.ticket == ticket)
            .order_by(Photo.id.desc())
            .limit(1)
        )
        return db.scalars(newest).one()


def stored(media_database: str) -> int:
    with session_scope(session_factory(media_database)) as db:
        return db.scalar(select(func.count()).select_from(Photo)) or 0


def test_a_reporter_adds_a_photo_that_staff_are_served(
    anyone: TestClient, media_database: str, media_credentials: Credentials
) -> None:
    ticket = filed(anyone)
    photo_id = uploaded(anyone, media_database, ticket, pictures.picture("PNG"))  # sent as JPEG
    served = anyone.get(f"/api/v1/photos/{photo_id}", headers=media_credentials.staff(Role.AGENT))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert served.headers["cache-control"].startswith("private")
    assert Image.open(io.BytesIO(served.content)).format == "PNG"
    small = anyone.get(
        f"/api/v1/photos/{photo_id}/thumbnail", headers=media_credentials.staff(Role.CREW)
    )
    assert small.status_code == 200


def test_anonymous_callers_never_get_the_bytes(anyone: TestClient, media_database: str) -> None:
    ticket = filed(anyone)
    photo_id = uploaded(anyone, media_database, ticket, pictures.picture())
    for path in (f"/api/v1/photos/{photo_id}", f"/api/v1/photos/{photo_id}/thumbnail"):
        answer = anyone.get(path)
        assert answer.status_code == 401
        assert not answer.content.startswith(b"\xff\xd8")


def test_a_photo_larger_than_the_limit_gets_413(anyone: TestClient, media_database: str) -> None:
    ticket = filed(anyone)
    before = stored(media_database)
    too_big = pictures.picture() + b"\0" * get_settings().photo_max_bytes
    answer = send(anyone, ticket, too_big)
    assert answer.status_code == 413
    assert stored(media_database) == before


@pytest.mark.parametrize(
    "data", [pictures.pdf(), b"plain words in a file called photo.jpg"], ids=["pdf", "text"]
)
def test_what_is_not_an_image_gets_415(
    anyone: TestClient, media_database: str, data: bytes
) -> None:
    ticket = filed(anyone)
    before = stored(media_database)
    assert send(anyone, ticket, data).status_code == 415
    assert stored(media_database) == before


def test_a_decompression_bomb_gets_422(anyone: TestClient) -> None:
    ticket = filed(anyone)
    assert send(anyone, ticket, pictures.png_bomb()).status_code == 422


@pytest.mark.parametrize("polyglot", [pictures.jpeg_with_html, pictures.jpeg_with_zip])
def test_a_polyglot_is_kept_without_its_payload(
    anyone: TestClient,
    media_database: str,
    media_credentials: Credentials,
    polyglot: Callable[[], bytes],
) -> None:
    ticket = filed(anyone)
    photo_id = uploaded(anyone, media_database, ticket, polyglot())
    served = anyone.get(f"/api/v1/photos/{photo_id}", headers=media_credentials.staff())
    assert served.headers["content-type"] == "image/jpeg"
    assert b"<html" not in served.content and b"PK\x03\x04" not in served.content


def test_exif_and_gps_are_gone_and_the_photo_upright(
    anyone: TestClient, media_database: str, media_credentials: Credentials
) -> None:
    ticket = filed(anyone)
    photo_id = uploaded(anyone, media_database, ticket, pictures.jpeg_with_gps((40, 20)))
    served = anyone.get(f"/api/v1/photos/{photo_id}", headers=media_credentials.staff())
    image = Image.open(io.BytesIO(served.content))
    assert image.size == (20, 40)
    assert not image.getexif()


def test_an_unknown_ticket_gets_404(anyone: TestClient) -> None:
    assert send(anyone, "NO-SUCH-TICKET", pictures.picture()).status_code == 404


def test_a_crew_adds_photos_to_its_own_jobs_only(
    anyone: TestClient,
    media_database: str,
    media_credentials: Credentials,
    new_incident: Callable[[int | None], int],
) -> None:
    crew = media_credentials.staff(Role.CREW)
    with session_scope(session_factory(media_database)) as db:
        other_crew = make_crew(db)
    ours, theirs = new_incident(media_credentials.crew_id), new_incident(other_crew)
    photo = {"photo": ("damage.jpg", pictures.picture(), "image/jpeg")}
    added = anyone.post(f"/api/v1/incidents/{ours}/photos", files=photo, headers=crew)
    assert added.status_code == 201, added.text
    refused = anyone.post(f"/api/v1/incidents/{theirs}/photos", files=photo, headers=crew)
    assert refused.status_code == 403
    listed = anyone.get(f"/api/v1/incidents/{ours}/photos", headers=crew).json()
    assert [(p["id"], p["source"], p["added_by"]) for p in listed] == [
        (added.json()["id"], "crew", "test-crew")
    ]
    assert listed[0]["url"] == f"/api/v1/photos/{added.json()['id']}"


def test_an_incident_lists_its_reports_photos_and_its_crews(
    anyone: TestClient,
    media_database: str,
    media_credentials: Credentials,
    new_incident: Callable[[int | None], int],
) -> None:
    incident = new_incident(media_credentials.crew_id)
    ticket = filed(anyone)
    with session_scope(session_factory(media_database)) as db:
        db.execute(update(Report).where(Report.ticket == ticket).values(incident_id=incident))
    reported = uploaded(anyone, media_database, ticket, pictures.picture(colour="green"))
    crew = media_credentials.staff(Role.CREW)
    photo = {"photo": ("damage.webp", pictures.picture("WEBP"), "image/webp")}
    taken = anyone.post(f"/api/v1/incidents/{incident}/photos", files=photo, headers=crew).json()
    listed = anyone.get(f"/api/v1/incidents/{incident}/photos", headers=crew).json()
    assert [(p["id"], p["source"]) for p in listed] == [(reported, "api"), (taken["id"], "crew")]
    layer = anyone.get("/api/v1/incidents.geojson", headers=media_credentials.staff()).json()
    [feature] = [f for f in layer["features"] if f["id"] == incident]
    assert feature["properties"]["photo_count"] == 2
    public = anyone.get("/api/v1/map/public.geojson")
    assert public.status_code == 200
    assert "photo" not in public.text
