"""A stand-in's HTTP server answers inside its `with` block and is closed after it."""

from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from outage.loopback import LoopbackServer


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def _server() -> LoopbackServer:
    return LoopbackServer(ThreadingHTTPServer(("127.0.0.1", 0), _Hello), name="hello")


def test_the_server_answers_on_its_url_inside_the_block() -> None:
    with _server() as server:
        assert httpx.get(server.url, timeout=5).text == "hello"
        assert server.url == f"http://127.0.0.1:{server.port}/"


def test_the_port_is_closed_after_the_block() -> None:
    with _server() as server:
        url = server.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=5)
