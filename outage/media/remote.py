"""Fetching a photo a client named by URL (Open311's `media_url`), with strict limits.

http and https only; at most `MAX_REDIRECTS` redirects, each checked like the first; the
whole fetch within `photo_url_timeout_seconds`; the body counted as it streams in and
dropped past `photo_max_bytes`. A host named in `photo_url_hosts` is fetched wherever it
is; any other only when every address its name resolves to is public, and then from the
address vetted, never a second lookup's (a name that resolves differently the second time
gains nothing): the request names the host in its Host header and, over https, in TLS
(whose certificate must still be the host's). No proxy from the environment, no cookies,
no credentials.
"""

import ipaddress
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from outage.media.images import FORMATS
from outage.settings import Settings

MAX_REDIRECTS = 3
MAX_URL_LENGTH = 2000
_HEADERS = {"Accept": ", ".join(FORMATS.values()), "Accept-Encoding": "identity"}
"""Images only, and not compressed on the way: the bytes counted are the bytes kept."""


class FetchFailed(Exception):
    """Why a URL gave no photo: kept on record, the request it came with stands."""


_NOT_PUBLIC = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("2002::/16"),
)
"""NAT64 and 6to4 addresses, which stand for an IPv4 address (a private one too) though
`is_global` takes them for public."""


def fetch(url: str, *, settings: Settings) -> bytes:
    """The bytes at `url`, or FetchFailed with the reason."""
    deadline = time.monotonic() + settings.photo_url_timeout_seconds.total_seconds()
    current = url.strip()
    for _ in range(MAX_REDIRECTS + 1):
        address = _check_url(current, settings, deadline)
        location = _get(current, address=address, deadline=deadline, settings=settings)
        if isinstance(location, bytes):
            return location
        current = urljoin(current, location)
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")


def _check_url(url: str, settings: Settings, deadline: float) -> str | None:
    """The vetted address to fetch the URL from, or None when its host is one the settings
    trust; FetchFailed when the URL may not be fetched at all."""
    if len(url) > MAX_URL_LENGTH:
        raise FetchFailed(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise FetchFailed(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise FetchFailed("only http and https URLs are fetched")
    if parts.username or parts.password:
        raise FetchFailed("URLs with credentials are not fetched")
    if host in {h.lower() for h in settings.photo_url_hosts}:
        return None
    addresses = _resolve(host, port or 443, deadline)
    for address in addresses:
        _check_public(address)
    return min(addresses, key=lambda address: (":" in address, address))  # IPv4 first


def _resolve(host: str, port: int, deadline: float) -> set[str]:
    """The host's addresses, looked up within the deadline (the system's resolver knows
    none of its own)."""
    pool = ThreadPoolExecutor(max_workers=1)
    lookup = pool.submit(socket.getaddrinfo, host, port)
    pool.shutdown(wait=False)
    try:
        found = lookup.result(timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        raise FetchFailed(f"the host {host!r} was not resolved in time") from None
    except (OSError, UnicodeError) as exc:
        raise FetchFailed(f"the host {host!r} cannot be resolved: {exc}") from None
    return {str(info[4][0]) for info in found}


def _check_public(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or any(ip in network for network in _NOT_PUBLIC):
        raise FetchFailed(f"the host's address {address} is not public")


def _get(url: str, *, address: str | None, deadline: float, settings: Settings) -> bytes | str:
    """The body of a 200, or the next URL of a redirect; FetchFailed otherwise. From
    `address` when given, else wherever the URL's host resolves to."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed("timed out")
    try:
        request = _request(httpx.URL(url), address)
        with (
            httpx.Client(timeout=left, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "GET", request.url, headers=request.headers, extensions=request.extensions
            ) as response,
        ):
            if response.is_redirect:
                return str(response.headers.get("location", ""))
            if response.status_code != 200:
                raise FetchFailed(f"the server answered {response.status_code}")
            return _body(response, deadline=deadline, max_bytes=settings.photo_max_bytes)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise FetchFailed(f"the fetch failed: {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class _Request:
    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, str]


def _request(url: httpx.URL, address: str | None) -> _Request:
    """The GET of `url`, sent to `address` when given, still naming the URL's host."""
    if address is None:
        return _Request(url, _HEADERS, {})
    name = url.raw_host.decode("ascii")
    tls = {"sni_hostname": name} if url.scheme == "https" else {}
    host = {"Host": url.netloc.decode("ascii")}
    return _Request(url.copy_with(host=address), _HEADERS | host, tls)


def _body(response: httpx.Response, *, deadline: float, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailed(f"the photo is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read > max_bytes:
            raise FetchFailed(f"the photo is larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchFailed("timed out")
        chunks.append(chunk)
    return b"".join(chunks)
