"""Fetching a photo by URL: http(s) only, public addresses unless the host is trusted,
redirects few and checked, the size counted as it streams, failures told."""

import pytest

from outage.media import remote
from outage.settings import Settings
from tests.outage.conftest import PHOTO_SERVED

PHOTO = PHOTO_SERVED
MAX_BYTES = 64 * 1024


@pytest.fixture
def server(photo_server: str) -> str:
    return photo_server


TRUSTED = Settings(photo_url_hosts=["127.0.0.1"], photo_max_bytes=MAX_BYTES)


def test_a_photo_of_a_trusted_host_is_fetched(server: str) -> None:
    assert remote.fetch(f"{server}/photo.jpg", settings=TRUSTED) == PHOTO


def test_a_loopback_address_is_not_fetched_unless_trusted(server: str) -> None:
    with pytest.raises(remote.FetchFailed, match="not public"):
        remote.fetch(f"{server}/photo.jpg", settings=Settings())


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/a.jpg", "gopher://x/", "not a url"]
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(remote.FetchFailed, match="http"):
        remote.fetch(url, settings=TRUSTED)


def test_a_few_redirects_are_followed(server: str) -> None:
    assert remote.fetch(f"{server}/hops/{remote.MAX_REDIRECTS - 1}", settings=TRUSTED) == PHOTO


def test_too_many_redirects_fail(server: str) -> None:
    with pytest.raises(remote.FetchFailed, match="redirects"):
        remote.fetch(f"{server}/hops/{remote.MAX_REDIRECTS + 1}", settings=TRUSTED)


def test_a_redirect_to_a_private_address_fails(server: str) -> None:
    with pytest.raises(remote.FetchFailed, match="not public"):
        remote.fetch(f"{server}/to-metadata", settings=TRUSTED)


def test_a_body_past_the_limit_fails_while_it_streams(server: str) -> None:
    with pytest.raises(remote.FetchFailed, match="larger than"):
        remote.fetch(f"{server}/endless", settings=TRUSTED)


def test_an_error_answer_fails(server: str) -> None:
    with pytest.raises(remote.FetchFailed, match="404"):
        remote.fetch(f"{server}/missing", settings=TRUSTED)


def test_a_url_httpx_cannot_send_fails() -> None:
    with pytest.raises(remote.FetchFailed, match="InvalidURL"):
        remote.fetch("http://1.1.1.1/a\x01b", settings=Settings())
