"""Reading the catalogues: `catalogues/<language>/<domain>.json`, one flat JSON object of
strings per language and domain, read once and kept."""

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from outage.i18n.languages import Language, supported

CATALOGUES = Path(__file__).resolve().parent / "catalogues"
"""One directory per language, one file per domain in each."""


def read_catalogue(path: Path) -> dict[str, str]:
    """One catalogue file: a JSON object whose keys and values are all strings."""
    words = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(words, dict) or not all(
        isinstance(key, str) and isinstance(text, str) for key, text in words.items()
    ):
        raise ValueError(f"{path.name}: a catalogue is one JSON object of strings")
    return words


@cache
def _load(domain: str, language: Language) -> Mapping[str, str]:
    return MappingProxyType(read_catalogue(CATALOGUES / language.value / f"{domain}.json"))


def catalogue(domain: str, language: Language) -> Mapping[str, str]:
    """One domain's words in `language` (a code we have no words for gets Vietnamese)."""
    return _load(domain, supported(language))
