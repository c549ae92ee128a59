"""Rendering messages from the Jinja2 templates in `templates/<language>/`.

Each `<kind>.txt` holds two blocks, `subject` and `text`: the text is the SMS (folded to
one plain GSM-7 message), the webhook body and the e-mail's words; `email.html` wraps
it for e-mail, autoescaped. Every message says how to stop them: an SMS ends with the
short "reply HUY" line (`sms.stop` in the `notifications` catalogue: a link would not
fit), an e-mail shows its unsubscribe link.
"""

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from outage.i18n import Language, catalogue, times
from outage.intake.channels.texts import SMS_MAX, sms_text
from outage.notifications.enums import DeliveryChannel
from outage.outbox.enums import EventKind
from outage.storms.enums import EtrScope

TEMPLATES = Path(__file__).resolve().parent / "templates"

TEMPLATED = tuple(kind for kind in EventKind if kind not in (EventKind.REPLY, EventKind.FOLLOW_UP))
"""The kinds written from a template; a reply carries its own words, and the follow-up is
no longer written ("power is back" asks)."""

_loader = FileSystemLoader(TEMPLATES)
_text = Environment(loader=_loader, autoescape=False, undefined=StrictUndefined)
_html = Environment(loader=_loader, autoescape=True, undefined=StrictUndefined)


@dataclass(frozen=True)
class RequestFacts:
    """A service request as its requester is told of it (care's plain values)."""

    ticket: str
    type: str
    state: str
    reason: str | None
    """Why it was rejected: staff's words, shown as text."""
    team: str | None = None
    """The care team that now handles it (a handover's message), by its name."""
    escalated: bool = False
    """Passed, past due, to the team's supervisor."""


@dataclass(frozen=True)
class Facts:
    """What a message may mention; times are shown in local time."""

    safety: bool = False
    switching: bool = False
    """Supply is back through switching while the repair goes on (`etr`: the repair's)."""
    etr: datetime | None = None
    etr_earliest: datetime | None = None
    etr_latest: datetime | None = None
    """The range the restoration likely falls in: none for a crew's own time."""
    etr_scope: EtrScope = EtrScope.OUTAGE
    """In a storm's global or regional phase, the time is the storm's or the area's."""
    assessing_damage: bool = False
    """A declared storm whose damage is being assessed in the outage's area: no time."""
    previous_etr: datetime | None = None
    """The ETR customers were told before this one: an earlier one is good news."""
    restored_at: datetime | None = None
    """When the customer's supply came back."""
    cause: str | None = None
    """The incident's cause code (`cause.<code>` in the `crew` catalogue)."""
    area: str | None = None
    """A short name of the place: the feeder's or the device's, never an address."""
    ticket: str | None = None
    """The customer's own report of this outage."""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    link: str | None = None
    stop_link: str | None = None
    """The message's unsubscribe link (e-mail shows it)."""
    code: str | None = None
    """A subscription's one-time code."""
    request: RequestFacts | None = None


class Unrenderable(ValueError):
    """The event holds a value no message can show: retrying will not help."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _block(template: Template, name: str, values: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(values))).strip()


AREA_MAX = 12
"""An area name longer than this is cut, so the message keeps its one SMS."""


def _when(moment: datetime | None, language: Language, zone: tzinfo) -> str | None:
    """A moment as every message writes one, with its day ("18:30 ngày 06/12", "18:30 on
    6 Dec": `i18n.times`): never a bare day/month an English reader may take the wrong way."""
    return times.when(moment, language, zone) if moment is not None else None


def _etr(facts: Facts, language: Language, zone: tzinfo, sms: bool) -> str | None:
    """The ETR with its range (`i18n.times`), in the SMS's few words on an SMS."""
    if facts.etr is None:
        return None
    return times.etr(facts.etr, facts.etr_earliest, facts.etr_latest, language, zone, short=sms)


def _request_type(request: RequestFacts | None, language: Language) -> str | None:
    """The request's type in words: the Open311 service's name, as the forms show it."""
    if request is None:
        return None
    return catalogue("open311", language).get(f"service.{request.type}.name", request.type)


def _cause(code: str | None, language: Language) -> str | None:
    """The cause in words, as the crews' page names it; nothing when it is not known."""
    if code is None or code == "unknown":
        return None
    return catalogue("crew", language).get(f"cause.{code}")


def _area(name: str | None) -> str | None:
    if not name:
        return None
    return name[:AREA_MAX].strip()


def _values(facts: Facts, language: Language, zone: tzinfo, sms: bool) -> dict[str, Any]:
    """What the templates may say, in `language`."""
    return {
        "safety": facts.safety,
        "switching": facts.switching,
        "etr": _etr(facts, language, zone, sms),
        "etr_scope": facts.etr_scope.value,
        "assessing": facts.assessing_damage,
        "earlier": facts.etr is not None
        and facts.previous_etr is not None
        and facts.etr < facts.previous_etr,
        "later": facts.etr is not None
        and facts.previous_etr is not None
        and facts.etr > facts.previous_etr,
        "previous": _when(facts.previous_etr, language, zone),
        "restored": _when(facts.restored_at, language, zone),
        "cause": _cause(facts.cause, language),
        "area": _area(facts.area),
        "ticket": facts.ticket,
        "starts": _when(facts.starts_at, language, zone),
        "ends": _when(facts.ends_at, language, zone),
        "link": facts.link,
        "sms": sms,
        "code": facts.code,
        "request": facts.request,
        "request_type": _request_type(facts.request, language),
    }


_SMS_SHORTER: tuple[dict[str, Any], ...] = (
    {"cause": None},
    {"cause": None, "area": None},
)
"""What an SMS that would not fit leaves out, in turn, before it is cut: the cause, then
the area's name (the customer knows where they live); the time and the ticket stay."""


def render(
    kind: EventKind, language: Language, channel: DeliveryChannel, facts: Facts, zone: tzinfo
) -> Rendered:
    sms = channel is DeliveryChannel.SMS
    try:
        values = _values(facts, language, zone, sms)
    except OverflowError as error:
        raise Unrenderable("a time of the message cannot be shown in local time") from error
    template = _text.get_template(f"{language}/{kind.value}.txt")
    subject, text = _block(template, "subject", values), _block(template, "text", values)
    if sms:
        stop = sms_text(catalogue("notifications", language)["sms.stop"])
        room = SMS_MAX - len(stop) - 1
        for shorter in _SMS_SHORTER:  # what matters most (the ticket, the time) kept whole
            if len(sms_text(text)) <= room:
                break
            text = _block(template, "text", {**values, **shorter})
        return Rendered(subject, f"{sms_text(text, room)} {stop}")
    if channel is DeliveryChannel.EMAIL:
        page = _html.get_template(f"{language}/email.html")
        return Rendered(
            subject,
            page.render(subject=subject, text=text, link=facts.link, stop_link=facts.stop_link),
        )
    return Rendered(subject, text)
