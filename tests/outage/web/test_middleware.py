"""The middleware every route shares: body limits counted on the bytes read (chunked too),
and JSON shape limits."""

from collections.abc import Iterator

from fastapi.testclient import TestClient

from outage.settings import get_settings

JSON = {"Content-Type": "application/json"}


def _chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    """The body sent chunked: no Content-Length to check."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    body = b'{"address": "' + b"x" * (100 * 1024) + b'"}'
    response = client.post("/api/v1/reports", content=_chunks(body), headers=JSON)
    assert response.status_code == 413
    assert len(response.content) < 200


def test_chunked_form_over_the_limit_is_413_with_the_security_headers(
    client: TestClient,
) -> None:
    body = b"From=%2B84912000111&Body=" + b"x" * (100 * 1024)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/api/v1/channels/sms", content=_chunks(body), headers=form)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert "content-security-policy" in response.headers


def test_deeply_nested_json_to_the_sms_webhook_is_422(client: TestClient) -> None:
    body = b"[" * 30_000 + b"]" * 30_000
    response = client.post("/api/v1/channels/sms", content=body, headers=JSON)
    assert response.status_code == 422
    assert "nested deeper" in response.json()["detail"]


def test_json_with_too_many_values_is_422(client: TestClient) -> None:
    body = "[" + ",".join(["0"] * 30_000) + "]"
    response = client.post("/api/v1/reports", content=body, headers=JSON)
    assert response.status_code == 422
    assert "more than" in response.json()["detail"]


def test_a_multipart_body_may_carry_a_photo_but_no_more(client: TestClient) -> None:
    settings = get_settings()
    form = {"Content-Type": "multipart/form-data; boundary=b"}
    body = b"x" * (settings.max_body_bytes + settings.photo_max_bytes + 1)
    response = client.post("/api/v1/reports/X/photos", content=_chunks(body, 65536), headers=form)
    assert response.status_code == 413
    assert str(settings.max_body_bytes + settings.photo_max_bytes) in response.json()["detail"]


def test_a_head_end_batch_may_be_larger_than_any_other_body(client: TestClient) -> None:
    events = ",".join(['{"meter_id": "M-none", "event": "last_gasp"}'] * 2_000)
    body = ('{"events": [' + events + "]}").encode()
    assert len(body) > get_settings().max_body_bytes
    assert client.post("/api/v1/reports", content=body, headers=JSON).status_code == 413
    response = client.post("/api/v1/ami/events", content=_chunks(body), headers=JSON)
    assert response.json()["rejected_count"] == 2_000


def test_a_head_end_batch_has_its_limit_too(client: TestClient) -> None:
    body = b'{"events": ["' + b"x" * get_settings().bulk_body_bytes + b'"]}'
    response = client.post("/api/v1/ami/events", content=_chunks(body, 65536), headers=JSON)
    assert response.status_code == 413
