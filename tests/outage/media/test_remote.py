"""Fetching a photo by URL: http(s) only, public addresses unless the host is trusted,
redirects few and checked, the size counted as it streams, failures told."""

import socket
from functools import partial
from typing import Any

import httpx
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


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "64:ff9b:1::a00:1", "2002:7f00:1::1"])
def test_nat64_and_6to4_addresses_are_not_public(address: str) -> None:
    with pytest.raises(remote.FetchFailed, match="not public"):
        remote.fetch(f"http://[{address}]/photo.jpg", settings=Settings())


VETTED = "93.184.215.14"


def test_the_vetted_address_is_fetched_from_and_the_name_not_looked_up_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def rebinding(host: str, port: int, *more: Any) -> list[tuple[Any, ...]]:
        """Public when vetted, loopback on any later lookup."""
        asked.append(host)
        address = VETTED if len(asked) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    sent: list[httpx.Request] = []

    def serve(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, stream=httpx.ByteStream(PHOTO))

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    served = partial(httpx.Client, transport=httpx.MockTransport(serve))
    monkeypatch.setattr(httpx, "Client", served)
    assert remote.fetch("https://photos.example:8443/a.jpg", settings=Settings()) == PHOTO
    [request] = sent
    assert (request.url.host, request.url.port) == (VETTED, 8443)
    assert request.headers["host"] == "photos.example:8443"
    assert request.extensions["sni_hostname"] == "photos.example"
    assert asked == ["photos.example"]
