"""CSV cells that are safe to open in a spreadsheet, for every export."""

from datetime import datetime
from enum import Enum

FORMULA_START = ("=", "+", "-", "@")
"""Text a spreadsheet would run as a formula when a cell starts with it (CSV injection)."""


def cell(value: object) -> str:
    """A CSV cell: empty for None, ISO 8601 for a moment, an enum's value; text that starts
    like a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        value = value.value
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text
