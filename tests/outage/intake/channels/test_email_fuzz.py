"""The e-mail parser and the SMTP receiver fuzzed with malformed MIME: a message is filed,
refused for good (5xx) or, never, answered "try again later" for a fault of its own."""

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from outage.intake.channels.email import MailReport, UnreadableMessage, read_message
from tests.conftest import FUZZ

from .conftest import send_raw

HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
CONTENT_TYPES = st.sampled_from(
    [
        "text/plain",
        "text/html",
        "multipart/mixed",
        "multipart/alternative",
        "message/rfc822",
        "application/octet-stream",
        "text/plain; charset=utf-8",
        "text/plain; charset=x-unknown",
        'text/plain; charset="utf-7"',
        "multipart/mixed; boundary=",
        'multipart/mixed; boundary=""',
        "text/;;;",
    ]
)
ENCODINGS = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "??"])
BODY = st.binary(max_size=300)


@st.composite
def parts(draw: st.DrawFn, depth: int = 0) -> bytes:
    """One MIME part: headers drawn from the odd and the broken, a body or nested parts."""
    content_type = draw(CONTENT_TYPES)
    headers = [f"Content-Type: {content_type}", f"Content-Transfer-Encoding: {draw(ENCODINGS)}"]
    headers += [f"{draw(st.sampled_from(['X-A', 'Subject', 'From']))}: {draw(HEADER_TEXT)}"]
    if content_type.startswith("multipart") and depth < 4:
        boundary = draw(st.sampled_from(["b", "b1", "--", "x y"]))
        headers[0] = f'Content-Type: {content_type}; boundary="{boundary}"'
        children = draw(st.lists(parts(depth + 1), max_size=3))
        closing = draw(st.booleans())
        body = b"".join(f"\r\n--{boundary}\r\n".encode() + child for child in children)
        body += f"\r\n--{boundary}--\r\n".encode() if closing else b""
    else:
        body = draw(BODY)
    return "\r\n".join(headers).encode() + b"\r\n\r\n" + body


MESSAGES = st.one_of(
    st.binary(max_size=500),
    parts().map(lambda part: b"From: someone@example.org\r\nSubject: Outage\r\n" + part),
)


@settings(FUZZ, max_examples=80)
@given(MESSAGES)
def test_any_message_is_read_or_refused_for_good(raw: bytes) -> None:
    with contextlib.suppress(UnreadableMessage):
        assert isinstance(read_message(raw), MailReport)


@settings(FUZZ, max_examples=25)
@given(parts().map(lambda part: b"From: someone@example.org\r\nSubject: Outage\r\n" + part))
def test_the_receiver_never_asks_to_retry_a_malformed_message(smtp_port: int, raw: bytes) -> None:
    code, answer = send_raw(smtp_port, raw)
    assert code == 250 or 500 <= code < 600, (code, answer)
