"""The languages we speak, and which one a request gets."""

from enum import StrEnum


class Language(StrEnum):
    """A language we have words for; its value is the code on the wire and in the database."""

    VI = "vi"
    EN = "en"


DEFAULT_LANGUAGE = Language.VI
"""The utility's own: what a customer gets when we do not know, or have no words for, theirs."""

LANGUAGES: tuple[Language, ...] = tuple(Language)
"""Every language, the default first."""


def supported(code: str) -> Language:
    """The language with this code; the default language for a code we have no words for."""
    return Language(code) if code in LANGUAGES else DEFAULT_LANGUAGE


def other_language(language: Language) -> Language:
    """The language the switch link offers."""
    return next(other for other in LANGUAGES if other != language)


def choose_language(requested: str | None, accept_language: str | None) -> Language:
    """An explicit ?lang= wins; else the best supported Accept-Language; else Vietnamese."""
    if requested:
        code = requested.strip().lower()
        if code in LANGUAGES:
            return Language(code)
    return from_accept_language(accept_language or "") or DEFAULT_LANGUAGE


def from_accept_language(header: str) -> Language | None:
    """The supported language a browser prefers most ('en-US,en;q=0.9,vi;q=0.8' -> 'en')."""
    best: Language | None = None
    best_q = 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = Language(primary), q
    return best
