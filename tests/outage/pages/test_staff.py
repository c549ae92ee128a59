"""What every staff page shares: Vietnamese unless asked, never cached, nothing a strict
Content Security Policy would block."""

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("path", ["/agent", "/agent/queue"])
def test_pages_are_vietnamese_by_default_never_cached_and_script_free(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == "vi"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert '<html lang="vi">' in html
    assert f'href="{path}?lang=en"' in html
    assert "<script" not in html and " style=" not in html, "nothing a strict CSP would block"
    assert not re.search(r'(src|href|action)="(https?:)?//', html), "everything from the app"
