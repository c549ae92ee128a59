"""How every page, answer and message writes a moment in the utility's zone, and an
estimated restoration (ETR) with the range it likely falls in.

A moment is written by the patterns of `i18n.dates`: with `now`, as a page or a status
answer writes it (today's by its time, others with their day: `dates.form_for`); without,
as a message does, always with its day (it is read hours later).

An ETR is its expected time, then the range the restoration likely falls in when it has
one (`dispatch.etr`): "18:30 (likely between 17:45 and 19:30)". A crew's or dispatcher's
own time has no range and is written alone: "18:30". An end of the range on the expected
time's day is written by its time alone, so the day is said once; an end on another day
always with its day. The pattern is the `dates` catalogue's `etr_range`, which a page's
script writes the same way (`dates.js`); an SMS has the shorter `etr_range_short`
("18:30 (17:45-19:30)").
"""

from datetime import datetime, tzinfo

from outage.i18n import dates
from outage.i18n.catalogue import catalogue
from outage.i18n.languages import Language


def _form(local: datetime, now: datetime | None) -> dates.Form:
    return dates.form_for(local, now) if now is not None else dates.Form.DAY_TIME


def when(moment: datetime, language: Language, zone: tzinfo, now: datetime | None = None) -> str:
    """`moment` in local time `zone`, by the page's rule with `now`, by the message's
    without. OverflowError for a moment local time cannot hold (the calendar's edge)."""
    local = moment.astimezone(zone)
    return dates.write(local, _form(local, now), language)


def etr(
    expected: datetime,
    earliest: datetime | None,
    latest: datetime | None,
    language: Language,
    zone: tzinfo,
    now: datetime | None = None,
    *,
    short: bool = False,
) -> str:
    """The ETR `expected`, with its range from `earliest` to `latest` when it has one (a
    range of a single moment is none); the moments written as `when` writes them."""
    told = when(expected, language, zone, now)
    if earliest is None or latest is None or earliest == latest:
        return told
    day = expected.astimezone(zone).date()

    def end(moment: datetime) -> str:
        local = moment.astimezone(zone)
        if local.date() == day:
            return dates.write(local, dates.Form.TIME, language)
        form = _form(local, now)
        if form is dates.Form.TIME:  # another day than the ETR's: never by its time alone
            form = dates.Form.DAY_TIME
        return dates.write(local, form, language)

    pattern = catalogue("dates", language)["etr_range_short" if short else "etr_range"]
    return pattern.format(etr=told, earliest=end(earliest), latest=end(latest))
