"""The customer pages over HTTP on the sample grid: /report and /status/{ticket}."""

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from grid_topology.model import GridModel, Premise
from outage.app import create_app
from outage.db import session_factory
from outage.i18n import Language, dates, strings
from outage.intake.enums import Channel, Hazard, MatchMethod, ReportOutcome, ReportStatus
from outage.intake.models import Report
from outage.media.enums import PhotoSource
from outage.media.models import Photo
from outage.settings import Settings, get_settings
from tests.outage.media import pictures

TICKET_URL = re.compile(r"^/status/(\d{6}-[2-9A-HJ-NP-Z]{5})\?lang=(vi|en)$")
XSS = "<img src=x onerror=alert(1)>"
VIETNAMESE_LETTERS = re.compile(
    "[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE
)
_markers = count()


CUSTOMER_BAND = slice(760, 860)
"""The pages tests report for these customers only. Other tests walk the customer list
from either end, and a report of ours would make theirs a duplicate."""


@pytest.fixture(scope="module")
def customers(sample_grid: GridModel) -> Iterator[Premise]:
    """Premises with a customer from the middle of the grid, one per test that needs one."""
    return iter([p for p in sample_grid.premises[CUSTOMER_BAND] if p.customer is not None])


def _marker(name: str) -> str:
    return f"pages-test {name} {next(_markers)}"


def _token(html: str) -> str:
    found = re.search(r'name="token" value="([0-9a-f-]{36})"', html)
    assert found, "the form carries an idempotency token"
    return found.group(1)


def _form(client: TestClient, language: str = "vi", **fields: str) -> dict[str, str]:
    page = client.get("/report", params={"lang": language})
    assert page.status_code == 200
    return {"token": _token(page.text), "lang": language, **fields}


def _post(client: TestClient, data: dict[str, str]) -> tuple[int, str, str]:
    response = client.post("/report", data=data, follow_redirects=False)
    return response.status_code, response.headers.get("location", ""), response.text


def _reports(database_url: str, description: str) -> list[Report]:
    with session_factory(database_url)() as session:
        return list(session.scalars(select(Report).where(Report.description == description)))


class _Text(HTMLParser):
    """The visible text nodes of a page's <body>."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._in_body = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_body |= tag == "body"
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if self._in_body and not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.texts


# --- the form -------------------------------------------------------------------------


def test_report_page_is_vietnamese_by_default(client: TestClient) -> None:
    response = client.get("/report")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == "vi"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    vi = strings("vi")
    assert '<html lang="vi">' in html
    for key in ("report_title", "field_account", "field_phone", "location_button", "submit"):
        assert vi[key] in html
    for hazard in Hazard:
        assert f'<option value="{hazard.value}">{vi[f"hazard.{hazard}"]}</option>' in html
    assert 'href="/report?lang=en"' in html
    assert 'href="/static/pages.css"' in html and 'src="/static/report.js"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "no CDN: everything from the app"


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"lang": "en"}, {}), ({}, {"Accept-Language": "en-US,en;q=0.9,vi;q=0.5"})],
)
def test_report_page_in_english(
    client: TestClient, params: dict[str, str], headers: dict[str, str]
) -> None:
    response = client.get("/report", params=params, headers=headers)
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert strings("en")["report_title"] in response.text
    assert 'href="/report?lang=vi"' in response.text


def test_lang_parameter_beats_accept_language(client: TestClient) -> None:
    response = client.get("/report?lang=vi", headers={"Accept-Language": "en"})
    assert '<html lang="vi">' in response.text


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("path", ["/report", "/status"])
def test_every_word_on_the_page_comes_from_the_dictionary(
    client: TestClient, path: str, language: str
) -> None:
    other = "en" if language == "vi" else "vi"
    allowed = set(strings(language).values()) | {strings(other)["language_name"]}
    html = client.get(path, params={"lang": language}).text
    stray = [text for text in _texts(html) if text not in allowed]
    assert not stray, f"text not from the pages catalogue: {stray}"


@pytest.mark.parametrize("path", ["/report", "/status", "/status/NO-SUCH-TICKET"])
def test_english_pages_have_no_vietnamese_left(client: TestClient, path: str) -> None:
    html = client.get(path, params={"lang": "en"}).text
    body = html.split("<body>", 1)[1]
    for switch in ("language_name", "switch_language"):  # the link to the other language
        body = body.replace(strings("vi")[switch], "")
    assert not VIETNAMESE_LETTERS.search(body)


def test_static_files_are_served(client: TestClient) -> None:
    css = client.get("/static/pages.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/static/report.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "geolocation" in js.text


# --- posting the form -------------------------------------------------------------------


def test_form_post_creates_report_and_redirects_to_status(
    client: TestClient, grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    description = _marker("created")
    data = _form(
        client,
        "en",
        account=premise.customer.account,
        description=description,
        hazard=Hazard.WIRES_DOWN.value,
    )
    code, location, _ = _post(client, data)
    assert code == 303
    found = TICKET_URL.match(location)
    assert found and found.group(2) == "en"
    [stored] = _reports(grid_database, description)
    assert stored.ticket == found.group(1)
    assert stored.channel is Channel.WEB
    assert stored.hazard is Hazard.WIRES_DOWN
    assert stored.match_method is MatchMethod.ACCOUNT
    assert stored.idempotency_key == f"web-form:{data['token']}"

    page = client.get(location)
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert strings("en")["status_title"] in page.text
    assert f'<p class="ticket" id="ticket">{stored.ticket}</p>' in page.text
    assert strings("en")["hazard.wires_down"] in page.text


def test_same_token_twice_gives_the_same_ticket(
    client: TestClient, grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    description = _marker("double submit")
    data = _form(client, account=premise.customer.account, description=description)
    first = _post(client, data)
    second = _post(client, data)
    assert first[0] == second[0] == 303
    assert first[1] == second[1]
    assert len(_reports(grid_database, description)) == 1


def test_a_used_token_with_other_details_asks_to_send_again(
    client: TestClient, grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    data = _form(client, "en", account=premise.customer.account, description=_marker("first"))
    assert _post(client, data)[0] == 303
    changed = {**data, "description": _marker("changed")}
    code, _, html = _post(client, changed)
    assert code == 422
    assert strings("en")["error_already_sent"] in html
    assert _token(html) != data["token"], "a fresh token, so sending again makes a new report"
    assert _reports(grid_database, changed["description"]) == []


def test_a_report_with_a_photo_keeps_it_without_its_exif(
    client: TestClient, grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    description = _marker("photo")
    data = _form(client, "en", account=premise.customer.account, description=description)
    photo = {"photo": ("IMG_0001.JPG", pictures.jpeg_with_gps((40, 20)), "image/jpeg")}
    response = client.post("/report", data=data, files=photo, follow_redirects=False)
    assert response.status_code == 303, response.text
    [stored] = _reports(grid_database, description)
    with session_factory(grid_database)() as session:
        [kept] = session.scalars(select(Photo).where(Photo.report_id == stored.id))
    assert (kept.source, kept.width, kept.height) == (PhotoSource.WEB, 20, 40)
    assert not Image.open(io.BytesIO(kept.data)).getexif()


def test_a_report_files_without_a_photo_from_a_multipart_form(
    client: TestClient, grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    description = _marker("no photo")
    data = _form(client, account=premise.customer.account, description=description)
    empty = {"photo": ("", b"", "application/octet-stream")}
    response = client.post("/report", data=data, files=empty, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert len(_reports(grid_database, description)) == 1


def test_a_file_that_is_no_image_is_shown_in_place_and_nothing_is_stored(
    client: TestClient, grid_database: str
) -> None:
    description = _marker("pdf")
    data = _form(client, "en", address="12 Phố Huế", description=description)
    photo = {"photo": ("photo.jpg", pictures.pdf(), "image/jpeg")}
    response = client.post("/report", data=data, files=photo, follow_redirects=False)
    assert response.status_code == 415
    assert strings("en")["error_photo.415"] in response.text
    assert _reports(grid_database, description) == []


def test_location_fields_place_the_report(
    client: TestClient, grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    lon, lat = premise.location
    description = _marker("gps")
    data = _form(client, lat=f"{lat:.6f}", lon=f"{lon:.6f}", description=description)
    code, location, _ = _post(client, data)
    assert code == 303, location
    [stored] = _reports(grid_database, description)
    assert stored.geom is not None
    assert stored.match_method in (MatchMethod.GPS_PREMISE, MatchMethod.GPS_TRANSFORMER)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_invalid_phone_is_shown_in_place_and_nothing_is_stored(
    client: TestClient, grid_database: str, language: str
) -> None:
    description = _marker("bad phone")
    data = _form(client, language, phone="12345", address="12 Phố Huế", description=description)
    code, location, html = _post(client, data)
    assert code == 422 and not location
    assert f'<html lang="{language}">' in html
    assert strings(language)["errors_title"] in html
    assert f'<p class="error" id="phone-error">{strings(language)["error_phone"]}</p>' in html
    assert 'aria-invalid="true"' in html
    assert 'value="12345"' in html and 'value="12 Phố Huế"' in html
    assert f">{description}</textarea>" in html
    assert _token(html) == data["token"], "nothing was stored, so the same form may be sent"
    assert _reports(grid_database, description) == []


def test_customer_input_is_escaped_when_the_form_comes_back(client: TestClient) -> None:
    data = _form(
        client,
        "en",
        phone="not a phone",
        account='"><script>alert(1)</script>',
        address="<b onmouseover=alert(1)>x</b>",
        description=XSS,
        hazard='"><svg onload=alert(1)>',
    )
    code, _, html = _post(client, data)
    assert code == 422
    for raw in (XSS, "<script>alert(1)", "<b onmouseover", "<svg onload"):
        assert raw not in html
    assert "&lt;img src=x onerror=alert(1)&gt;</textarea>" in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert strings("en")["error_hazard"] in html


def test_a_report_needs_to_say_where(client: TestClient, grid_database: str) -> None:
    description = _marker("nowhere")
    code, _, html = _post(client, _form(client, "en", description=description))
    assert code == 422
    assert strings("en")["error_where"] in html
    assert _reports(grid_database, description) == []


def test_half_a_location_is_refused(client: TestClient) -> None:
    code, _, html = _post(client, _form(client, "en", lat="53.64", account="A-1"))
    assert code == 422
    assert strings("en")["error_location"] in html


def test_a_location_outside_the_territory_is_refused(
    client: TestClient, grid_database: str
) -> None:
    description = _marker("outside")
    data = _form(client, "vi", lat="21.028500", lon="105.854200", description=description)
    code, _, html = _post(client, data)
    assert code == 422
    assert strings("vi")["error_outside"] in html
    assert 'name="lat" id="lat" value=""' in html, "the fix is dropped so an address can go"
    assert _reports(grid_database, description) == []


def test_too_many_reports_from_one_phone(grid_database: str, customers: Iterator[Premise]) -> None:
    strict = get_settings().model_copy(update={"rate_limit_per_phone": "1/hour"})
    premise = next(customers)
    assert premise.customer is not None
    with TestClient(create_app(grid_database, strict)) as limited:
        first = _form(limited, "en", phone=premise.customer.phone, description=_marker("rate 1"))
        assert _post(limited, first)[0] == 303
        second = _form(limited, "en", phone=premise.customer.phone, description=_marker("rate 2"))
        response = limited.post("/report", data=second, follow_redirects=False)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    minutes = re.search(r"try again in (\d+) minutes", response.text)
    assert minutes, "the localized message with the wait in minutes"
    assert strings("en")["error_rate_limited"].format(minutes=minutes.group(1)) in response.text
    assert _reports(grid_database, second["description"]) == []


# --- the status page --------------------------------------------------------------------


def test_status_page_shows_no_personal_data(
    client: TestClient, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    customer = premise.customer
    assert customer is not None and premise.address
    description = _marker("private")
    data = _form(
        client,
        account=customer.account,
        phone=customer.phone,
        address=premise.address,
        description=description,
    )
    code, location, _ = _post(client, data)
    assert code == 303
    html = client.get(location).text
    assert TICKET_URL.match(location)
    for private in (
        customer.account,
        customer.name,
        customer.phone,
        customer.phone[-9:],
        premise.address,
        premise.ref,
        description,
    ):
        assert private not in html


def test_status_page_of_a_second_report_says_we_know_already(
    client: TestClient, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    account = premise.customer.account
    _, first, _ = _post(client, _form(client, account=account, description=_marker("dup 1")))
    _, second, _ = _post(client, _form(client, account=account, description=_marker("dup 2")))
    assert first != second
    html = client.get(second).text
    assert strings("vi")["report_status.duplicate"] in html
    assert strings("vi")["duplicate_of_label"] in html


def _anonymous_report(anonymous_client: TestClient, premise: Premise) -> str:
    """A report with a hazard and the customer's phone, filed on the page by anyone."""
    assert premise.customer is not None
    data = _form(
        anonymous_client,
        phone=premise.customer.phone,
        account=premise.customer.account,
        hazard=Hazard.WIRES_DOWN.value,
    )
    code, location, _ = _post(anonymous_client, data)
    assert code == 303
    found = TICKET_URL.match(location)
    assert found
    return found.group(1)


def test_status_page_asks_for_the_phone_digits_before_showing_the_status(
    anonymous_client: TestClient, customers: Iterator[Premise]
) -> None:
    ticket = _anonymous_report(anonymous_client, next(customers))
    page = anonymous_client.get(f"/status/{ticket}")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and strings("vi")["prove_hint"] in page.text
    assert f'<form method="post" action="/status/{ticket}"' in page.text
    assert strings("vi")["report_status.received"] not in page.text
    assert strings("vi")["hazard.wires_down"] not in page.text


def test_status_page_shows_the_status_after_the_right_digits(
    anonymous_client: TestClient, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    ticket = _anonymous_report(anonymous_client, premise)
    page = anonymous_client.post(
        f"/status/{ticket}", data={"phone_last4": premise.customer.phone[-4:], "lang": "en"}
    )
    assert page.status_code == 200
    assert strings("en")["hazard.wires_down"] in page.text


def test_status_page_shows_the_time_in_the_zone_of_the_apps_settings(
    grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    tokyo = Settings(local_timezone="Asia/Tokyo")
    with TestClient(create_app(grid_database, tokyo)) as client:
        ticket = _anonymous_report(client, premise)
        page = client.post(
            f"/status/{ticket}", data={"phone_last4": premise.customer.phone[-4:], "lang": "en"}
        )
    assert page.status_code == 200
    with session_factory(grid_database)() as session:
        received = session.scalars(select(Report.received_at).where(Report.ticket == ticket)).one()
    shown = received.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f'<time datetime="{shown.isoformat(timespec="minutes")}">' in page.text
    assert dates.moment_text(shown, Language.EN, datetime.now(UTC)) in page.text


def test_status_page_of_a_duplicate_does_not_tell_the_ticket_it_joins(
    anonymous_client: TestClient, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    first = _anonymous_report(anonymous_client, premise)
    second = _anonymous_report(anonymous_client, premise)
    page = anonymous_client.post(
        f"/status/{second}", data={"phone_last4": premise.customer.phone[-4:], "lang": "en"}
    )
    assert strings("en")["report_status.duplicate"] in page.text
    assert first not in page.text


def test_status_page_refuses_wrong_digits_and_shows_nothing(
    anonymous_client: TestClient, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    ticket = _anonymous_report(anonymous_client, premise)
    wrong = "0000" if premise.customer.phone[-4:] != "0000" else "1111"
    page = anonymous_client.post(f"/status/{ticket}", data={"phone_last4": wrong, "lang": "en"})
    assert page.status_code == 403
    assert strings("en")["prove_error"] in page.text
    assert strings("en")["hazard.wires_down"] not in page.text


def test_status_page_refuses_digits_that_are_not_four_digits(
    anonymous_client: TestClient, customers: Iterator[Premise]
) -> None:
    ticket = _anonymous_report(anonymous_client, next(customers))
    page = anonymous_client.post(f"/status/{ticket}", data={"phone_last4": "١٢٣٤", "lang": "en"})
    assert page.status_code == 422
    assert strings("en")["prove_error"] in page.text


def test_ticket_lookup_is_forgiving(client: TestClient, customers: Iterator[Premise]) -> None:
    premise = next(customers)
    assert premise.customer is not None
    _, location, _ = _post(client, _form(client, "en", account=premise.customer.account))
    found = TICKET_URL.match(location)
    assert found
    ticket = found.group(1)
    typed = f"  {ticket.lower()[:3]} {ticket.lower()[3:]} "
    response = client.get("/status", params={"ticket": typed, "lang": "en"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/status/{ticket}?lang=en"
    assert client.get(f"/status/{ticket.lower()}").status_code == 200


def test_lookup_page_without_a_ticket(client: TestClient) -> None:
    response = client.get("/status")
    assert response.status_code == 200
    assert strings("vi")["check_title"] in response.text
    assert 'action="/status"' in response.text


@pytest.mark.parametrize("language", ["vi", "en"])
def test_unknown_ticket_is_a_localized_404(client: TestClient, language: str) -> None:
    response = client.get("/status/260101-ZZZZZ", params={"lang": language})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert strings(language)["not_found_title"] in response.text
    assert "260101-ZZZZZ" in response.text
    assert 'action="/status"' in response.text


def test_unknown_ticket_is_escaped(client: TestClient) -> None:
    response = client.get("/status/%3Cscript%3Ealert(1)%3C%5Cscript%3E")
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;" in response.text


def test_the_report_form_is_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(p in paths for p in ("/report", "/status", "/status/{ticket}"))


def test_reports_count_is_untouched_by_page_views(client: TestClient, grid_database: str) -> None:
    with session_factory(grid_database)() as session:
        before = session.scalar(select(func.count()).select_from(Report))
        client.get("/report")
        client.get("/status/260101-ZZZZZ")
        assert session.scalar(select(func.count()).select_from(Report)) == before


def _closed_inside(anonymous_client: TestClient, database_url: str, premise: Premise) -> str:
    """An outage report filed on the page, then closed because the meter had power."""
    assert premise.customer is not None
    data = _form(anonymous_client, phone=premise.customer.phone, account=premise.customer.account)
    code, location, _ = _post(anonymous_client, data)
    found = TICKET_URL.match(location)
    assert code == 303 and found
    ticket = found.group(1)
    with session_factory(database_url).begin() as session:
        report = session.scalars(select(Report).where(Report.ticket == ticket)).one()
        report.status, report.outcome = ReportStatus.CLOSED, ReportOutcome.INSIDE_PREMISE
        report.closed_at = datetime.now(UTC)
    return ticket


def test_a_ticket_closed_inside_the_premise_says_so_and_offers_a_visit(
    anonymous_client: TestClient, grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    ticket = _closed_inside(anonymous_client, grid_database, premise)
    digits = premise.customer.phone[-4:]
    page = anonymous_client.post(f"/status/{ticket}", data={"phone_last4": digits, "lang": "en"})
    assert page.status_code == 200
    assert "main breaker" in page.text and f"VISIT {ticket}" in page.text
    assert f'action="/status/{ticket}/visit"' in page.text
    assert strings("en")["visit_submit"] in page.text


def test_the_visit_button_files_a_request_shown_with_its_ticket(
    anonymous_client: TestClient, grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    ticket = _closed_inside(anonymous_client, grid_database, premise)
    digits = premise.customer.phone[-4:]
    page = anonymous_client.post(
        f"/status/{ticket}/visit", data={"phone_last4": digits, "lang": "vi"}
    )
    assert page.status_code == 200
    assert strings("vi")["visit_filed"] in page.text
    assert 'id="visit-form"' not in page.text


def test_the_visit_button_needs_the_phone_digits(
    anonymous_client: TestClient, grid_database: str, customers: Iterator[Premise]
) -> None:
    premise = next(customers)
    assert premise.customer is not None
    ticket = _closed_inside(anonymous_client, grid_database, premise)
    page = anonymous_client.post(f"/status/{ticket}/visit", data={"phone_last4": "", "lang": "vi"})
    assert page.status_code == 422
    assert strings("vi")["visit_filed"] not in page.text
