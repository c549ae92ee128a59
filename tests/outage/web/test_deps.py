"""The caller's address, as per-address limits, ticket guesses and sign-ins count it."""

import pytest
from starlette.requests import Request

from outage.web.deps import MAX_ADDRESS_LENGTH, client_ip


def _from(client: tuple[str, int] | None) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "client": client})


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:DB8:0:0::7", "2001:db8::7"),
        ("testclient", "testclient"),
        ("h" * 60, "h" * MAX_ADDRESS_LENGTH),
    ],
)
def test_one_caller_is_written_one_way_and_fits_its_columns(host: str, address: str) -> None:
    assert client_ip(_from((host, 40000))) == address


def test_no_socket_no_address() -> None:
    assert client_ip(_from(None)) is None
