"""A small HTTP server on a loopback port, answering from a background thread.

The stand-ins the demo, the benchmarks and the tests run beside the service (the SMS
gateway's, the field's SCADA, the customers' inbox page) each serve a few requests of
their own; this is the one place that starts such a server and stops it again.
"""

import threading
from http.server import ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """Serves `server` from a background thread for the length of a `with` block."""

    def __init__(self, server: ThreadingHTTPServer, *, name: str) -> None:
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
