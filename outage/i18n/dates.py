"""How the service writes a time: one style per language for every page, message and feed.

The patterns are data (`catalogues/<language>/dates.json`) in a small part of strftime's
language (`%H %M %d %-d %m %Y %b`, `%b` being the month's short name from `months`),
which `outage/pages/static/dates.js` reads the same way, so a page's script writes a
time exactly as the server does. Which pattern a page uses follows one rule
(`form_for`): a moment of today in the utility's zone is its time ("18:30"); of this
year, its time and day ("18:30 ngày 06/12", "18:30 on 6 Dec"); of another year, with
the year. A message always names the day (`Form.DAY_TIME`): it is read hours later.
"""

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from outage.i18n.catalogue import catalogue
from outage.i18n.languages import Language

_FIELD = re.compile(r"%(-?[a-zA-Z%])")


class Form(StrEnum):
    """The ways a time is written (the keys of the `dates` catalogue)."""

    TIME = "time"
    DATE = "date"
    DAY_TIME = "day_time"
    DATE_TIME = "date_time"


def _months(language: Language) -> list[str]:
    return catalogue("dates", language)["months"].split(",")


def write(local: datetime, form: Form, language: Language) -> str:
    """`local` (already in the zone it is to be read in) as `form` writes it in `language`."""
    fields = {
        "H": f"{local.hour:02d}",
        "M": f"{local.minute:02d}",
        "d": f"{local.day:02d}",
        "-d": str(local.day),
        "m": f"{local.month:02d}",
        "Y": str(local.year),
        "b": _months(language)[local.month - 1],
        "%": "%",
    }
    pattern = catalogue("dates", language)[form]
    return _FIELD.sub(lambda found: fields[found.group(1)], pattern)


def form_for(local: datetime, now: datetime) -> Form:
    """Today's moment by its time, this year's with its day, any other with its year."""
    today = now.astimezone(local.tzinfo)
    if local.date() == today.date():
        return Form.TIME
    if local.year == today.year:
        return Form.DAY_TIME
    return Form.DATE_TIME


def moment_text(local: datetime, language: Language, now: datetime) -> str:
    """A moment on a page, written by the rule of `form_for`."""
    return write(local, form_for(local, now), language)


def client_style(language: Language, zone: str) -> dict[str, Any]:
    """What a page's script needs to write times as the server does (`dates.js`):
    the language, the utility's zone (IANA name), the patterns and how an ETR's range
    is told (`i18n.times`)."""
    words = catalogue("dates", language)
    return {
        "lang": language.value,
        "zone": zone,
        "patterns": {form.value: words[form] for form in Form},
        "months": _months(language),
        "etr_range": words["etr_range"],
    }
