"""The after-action page's own rules: which hours its charts name, the bands of the
first ETRs' errors, and how the replay's options are read and its crews named (the page
itself is tested over HTTP in tests/outage/reliability)."""

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.replay import Policy
from outage import i18n
from outage.i18n import Language
from outage.pages.after_action import (
    HOUR_LABELS,
    InvalidReplay,
    error_bands,
    hour_labels,
    replay_crew_text,
    replay_options,
)
from outage.reliability.replay import MAX_CREWS

T0 = datetime(2025, 3, 10, tzinfo=UTC)


def _hours(count: int) -> list[datetime]:
    return [T0 + timedelta(hours=i) for i in range(count)]


def test_a_day_names_every_other_hour_by_its_time() -> None:
    names = hour_labels(_hours(24))
    assert names[:3] == ["00:00", "", "02:00"]
    assert len([n for n in names if n]) == HOUR_LABELS


def test_a_month_names_some_days_by_their_date() -> None:
    names = [n for n in hour_labels(_hours(24 * 31)) if n]
    assert names[0] == "10/03" and len(names) <= HOUR_LABELS
    assert all(len(n) == len("dd/mm") for n in names)


def test_errors_fall_in_their_band_and_a_bound_in_the_band_nearer_zero() -> None:
    errors = [-61.0, -60.0, -15.0, -14.0, 0.0, 15.0, 16.0, 60.0, 61.0]
    assert error_bands(errors) == [1, 1, 4, 2, 1]


def test_a_replay_left_blank_takes_the_recorded_crews_and_rule() -> None:
    assert replay_options("", None) == (None, Policy.RECORDED)
    assert replay_options(" 3 ", "planner") == (3, Policy.PLANNER)
    assert replay_options(str(MAX_CREWS), "recorded") == (MAX_CREWS, Policy.RECORDED)


@pytest.mark.parametrize(
    ("crews", "policy", "option"),
    [
        ("abc", None, "crews"),
        ("-1", None, "crews"),
        ("2.5", None, "crews"),
        ("²", None, "crews"),
        (str(MAX_CREWS + 1), None, "crews"),
        ("1", "luck", "policy"),
    ],
)
def test_a_replay_option_out_of_bounds_is_refused_naming_it(
    crews: str, policy: str | None, option: str
) -> None:
    with pytest.raises(InvalidReplay) as refused:
        replay_options(crews, policy)
    assert refused.value.option == option
    assert refused.value.status == 422


@pytest.mark.parametrize(("language", "added"), [(Language.EN, "added 1"), (Language.VI, "thêm 1")])
def test_an_added_crew_is_named_by_its_number(language: Language, added: str) -> None:
    words = i18n.strings(language)
    assert replay_crew_text(-1, words) == added
    assert replay_crew_text(7, words) == "7"
