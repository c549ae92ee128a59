"""The one Language: which one a request gets, the switch, the fallback, the words for
values, and the database's checks agreeing with the enum."""

import re

import pytest

import outage.models  # noqa: F401  (registers every table)
from outage import i18n
from outage.care.enums import RequestType
from outage.db import Base
from outage.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language
from outage.intake.enums import Hazard
from outage.open311.catalogue import SERVICES


def test_vietnamese_is_the_default_and_comes_first() -> None:
    assert DEFAULT_LANGUAGE is Language.VI
    assert LANGUAGES == (Language.VI, Language.EN)


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
    chosen = i18n.choose_language(requested, header)
    assert chosen == expected and isinstance(chosen, Language)


def test_other_language_is_the_switch() -> None:
    assert i18n.other_language(Language.VI) is Language.EN
    assert i18n.other_language(Language.EN) is Language.VI


def test_a_code_we_have_no_words_for_gets_vietnamese() -> None:
    assert i18n.supported("fr") is Language.VI
    assert i18n.supported("en") is Language.EN
    assert i18n.strings("fr") is i18n.strings(Language.VI)  # type: ignore[arg-type]
    assert i18n.strings("en") is i18n.strings(Language.EN)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", LANGUAGES)
def test_labels_come_from_the_tables(language: Language) -> None:
    t = i18n.strings(language)
    labels = {i18n.hazard_label(language, h) for h in [None, *Hazard]}
    assert len(labels) == len(Hazard) + 1
    assert i18n.hazard_label(language, None) == t["hazard.none"]
    assert i18n.critical_label(language, "hospital") == t["critical.hospital"]
    assert i18n.critical_label(language, "bakery") == "bakery"
    for kind in RequestType:
        label = i18n.request_type_label(language, kind)
        assert label != kind.value
        if kind in SERVICES:  # the care centre's own connection checks are no Open311 service
            assert label == SERVICES[kind].name(language)


def test_the_database_takes_exactly_our_languages() -> None:
    with_language = {t.name for t in Base.metadata.tables.values() if "language" in t.columns}
    checks = {
        table.name: constraint.sqltext.text
        for table in Base.metadata.tables.values()
        for owner in (table, *table.columns)
        for constraint in owner.constraints
        if str(constraint.name).endswith("_language") and hasattr(constraint, "sqltext")
    }
    assert checks.keys() == with_language
    for check in checks.values():
        assert set(re.findall(r"'(\w+)'", check)) == {language.value for language in Language}
