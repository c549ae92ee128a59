"""CSV cells safe to open in a spreadsheet."""

from datetime import UTC, datetime
from enum import StrEnum

import pytest

from outage.spreadsheet import cell


class Colour(StrEnum):
    RED = "red"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)"])
def test_text_a_spreadsheet_would_run_is_quoted(text: str) -> None:
    assert cell(text) == "'" + text


def test_numbers_are_written_as_they_are() -> None:
    assert (cell(-1.5), cell(7)) == ("-1.5", "7")


def test_moments_enums_and_none_are_written_plainly() -> None:
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert (cell(moment), cell(Colour.RED), cell(None)) == ("2026-03-01T12:00:00+00:00", "red", "")
