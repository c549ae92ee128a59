"""Value types request schemas share, so every channel refuses the same bad input (422)
rather than failing in the database or in the JSON answer (500)."""

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
"""WGS84 degrees; NaN and infinities (`1e999` parses as one) are refused."""
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]

PhoneLast4 = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
"""The last four digits of a phone, which prove a ticket is the caller's."""

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
BigInt = Annotated[int, Field(ge=BIGINT_MIN, le=BIGINT_MAX)]
"""A whole number PostgreSQL's bigint holds."""


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text may not contain lone surrogates (\\ud800-\\udfff)") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]
"""Text PostgreSQL stores (in a text column or in JSONB): no NUL, valid Unicode."""
