"""The maps' words in Vietnamese and English: page text, layer names, and the labels the
page scripts put in popups and lists (handed to them as JSON, never as markup).

The words are data, one catalogue per language (`catalogues/<language>.json`, a flat JSON
object of strings, the format of the service's own catalogues), read once. The language
itself is chosen by the page that shows the map; one we have no words for gets
Vietnamese, the utility's own.
"""

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

CATALOGUES = Path(__file__).resolve().parent / "catalogues"

FALLBACK_LANGUAGE = "vi"

LANGUAGES = ("vi", "en")
"""The languages we have words for: one catalogue each."""


@cache
def _catalogue(language: str) -> Mapping[str, str]:
    words = json.loads((CATALOGUES / f"{language}.json").read_text(encoding="utf-8"))
    if not isinstance(words, dict) or not all(
        isinstance(key, str) and isinstance(text, str) for key, text in words.items()
    ):
        raise ValueError(f"{language}.json: a catalogue is one JSON object of strings")
    return MappingProxyType(words)


def strings(language: str) -> Mapping[str, str]:
    return _catalogue(language if language in LANGUAGES else FALLBACK_LANGUAGE)
