"""The site's icon: answered at /favicon.ico, an image, cached long."""

from fastapi.testclient import TestClient


def test_the_icon_is_an_image_cached_for_long(anonymous_client: TestClient) -> None:
    response = anonymous_client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    assert response.headers["cache-control"] == "public, max-age=2592000"
    assert response.content.startswith(b"<svg")


def test_every_page_points_at_the_icon(anonymous_client: TestClient) -> None:
    for path in ("/report", "/map", "/login"):
        html = anonymous_client.get(path).text
        assert '<link rel="icon" href="/favicon.ico" type="image/svg+xml">' in html, path
