"""What the channels share: accent folding, idempotency keys, phone numbers as sent."""

import hashlib
import re
import unicodedata
from functools import lru_cache

from outage.intake.phones import InvalidPhone, to_e164

DESCRIPTION_MAX = 2000
"""The longest description `ReportIn` takes; channels cut longer text to fit."""

_KEY_MAX = 200
"""Length of the reports' idempotency_key column."""

_ACCOUNT_LIKE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9.\-_/]{3,63}$")


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d" if char == "đ" else "D"
    return unicodedata.normalize("NFD", char)[0]


def fold(text: str) -> str:
    """Letters without their accents ('Mất điện' -> 'Mat dien'), one character for one.

    The result has the length of the input, so a match found in the folded text is at
    the same place in the original. Give it NFC text (`nfc`) for that to hold.
    """
    return "".join(_fold_char(char) for char in text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def idempotency_key(channel: str, *parts: str) -> str:
    """A channel's own message id as the service's idempotency key, namespaced per channel."""
    key = ":".join((channel, *parts))
    if len(key) <= _KEY_MAX:
        return key
    return f"{channel}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def phone_or_none(raw: str | None) -> str | None:
    """The sender's number in E.164, or None for short codes, names and withheld numbers."""
    if not raw:
        return None
    try:
        return to_e164(raw)
    except InvalidPhone:
        return None


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def looks_like_account(word: str) -> bool:
    """Shaped like an account number (letters and digits, at least one digit), known or not."""
    return _ACCOUNT_LIKE.match(word) is not None
