"""The pages' strings: both languages complete, and the language a request gets."""

import string

import pytest

from outage import i18n
from outage.intake.enums import Hazard, ReportStatus


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys() -> None:
    assert set(i18n.STRINGS["vi"]) == set(i18n.STRINGS["en"])
    assert i18n.DEFAULT_LANGUAGE == "vi"


def test_translations_keep_their_placeholders() -> None:
    for key, text in i18n.STRINGS["vi"].items():
        assert _placeholders(text) == _placeholders(i18n.STRINGS["en"][key]), key


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_hazard_and_status_has_words(language: str) -> None:
    labels = {i18n.hazard_label(language, h) for h in [None, *Hazard]}
    assert len(labels) == len(Hazard) + 1
    assert all(i18n.status_text(language, s) for s in ReportStatus)


@pytest.mark.parametrize(
    ("requested", "header", "expected"),
    [
        (None, None, "vi"),
        ("en", None, "en"),
        ("EN", "vi", "en"),
        ("vi", "en-US,en;q=0.9", "vi"),
        ("fr", "en-GB", "en"),
        (None, "en-US,en;q=0.9,vi;q=0.8", "en"),
        (None, "fr-FR,vi;q=0.9,en;q=0.5", "vi"),
        (None, "en;q=0.2,vi;q=0.7", "vi"),
        (None, "de,fr;q=0.8", "vi"),
        (None, "*", "vi"),
        (None, "en;q=bogus, vi", "vi"),
    ],
)
def test_choose_language(requested: str | None, header: str | None, expected: str) -> None:
    assert i18n.choose_language(requested, header) == expected


def test_other_language_is_the_switch() -> None:
    assert i18n.other_language("vi") == "en"
    assert i18n.other_language("en") == "vi"
