"""Phone numbers as customers type them, in the one form we store and match: E.164."""

import phonenumbers

from outage.errors import Invalid

DEFAULT_REGION = "VN"


class InvalidPhone(Invalid, ValueError):
    pass


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """'0912 345 678', '+84 912345678' and '84912345678' all become '+84912345678'."""
    text = raw.strip()
    if text.isdigit() and text.startswith("84") and len(text) >= 11:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
