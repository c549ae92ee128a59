"""What a customer may know of their report's outage, and its words in their language.

Every channel's status answer (the status page, the reports API, SMS, the IVR, Open311)
says the same thing, so it is one read model: `Progress`. Intake defines it and words it;
the incidents service fills it (`report_progress` in `outage/incidents/progress.py`),
because intake sits below incidents and knows nothing of them. A channel in intake is
handed the filler (`ProgressSource`) by the route that calls it.

No personal data: a ticket, a phase, a cause from the fixed list of causes, times.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from sqlalchemy.orm import Session

from outage import clock
from outage.i18n import LANGUAGES, Language, catalogue, times
from outage.intake.enums import ReportStatus
from outage.storms.enums import EtrScope


class Phase(StrEnum):
    """Where the outage behind a report stands, in the customer's terms."""

    KNOWN = "known"
    """We know of it; nobody is on the way yet."""
    CREW_ON_THE_WAY = "crew_on_the_way"
    CREW_ON_SITE = "crew_on_site"
    PARTLY_RESTORED = "partly_restored"
    """Some customers of the outage have power again, this one not yet."""
    RESTORED = "restored"
    NO_OUTAGE_FOUND = "no_outage_found"
    """The incident was cancelled: nothing wrong on the network; the premise is checked."""
    INSIDE_PREMISE = "inside_premise"
    """No incident: the customer's meter has power, so the fault is inside the premise
    (check the main breaker; a service visit on request)."""


@dataclass(frozen=True)
class Progress:
    ticket: str
    status: ReportStatus
    phase: Phase | None
    """None while the report is not part of an incident (and did not close as inside the
    premise)."""
    cause: str | None = None
    """A cause code (`told_cause`)."""
    etr: datetime | None = None
    etr_earliest: datetime | None = None
    etr_latest: datetime | None = None
    """The range the restoration likely falls in (`dispatch.etr`): none for a crew's or
    dispatcher's own time."""
    etr_scope: EtrScope = EtrScope.OUTAGE
    """In a storm's global or regional phase, the time is the storm's or the area's: when
    the last of its outages is expected back."""
    restored_at: datetime | None = None
    """When this customer's supply came back (the restoration's own time)."""
    assessing_damage: bool = False
    """A declared storm whose damage is being assessed in the outage's area: no time yet."""
    hazard: bool = False
    """The incident is a danger to make safe, not an outage: told in its own words."""
    personal: bool = True
    """False for an answer anyone may read (Open311): the incident's phase only, nothing
    about this customer's own supply or connection."""


def told_cause(cause: str | None) -> str | None:
    """The cause a customer may be told: a code of the fixed list, never free text (a
    dispatcher's note may name people or places), and not "unknown"."""
    if cause is None or cause == "unknown":
        return None
    return cause if f"cause.{cause}" in catalogue("crew", Language.EN) else None


ProgressSource = Callable[[Session, str], Progress | None]
"""The report's progress by ticket (None for an unknown ticket)."""


def _ahead(moment: datetime | None, now: datetime) -> datetime | None:
    """An ETR's time as it is told: never in the past (one that passed is re-estimated;
    until then, it is "now")."""
    return None if moment is None else max(moment, now)


_ETR_KEYS = {
    EtrScope.OUTAGE: "progress.etr",
    EtrScope.AREA: "progress.etr_area",
    EtrScope.STORM: "progress.etr_storm",
}

_PUBLIC_PHASES = frozenset({Phase.PARTLY_RESTORED, Phase.NO_OUTAGE_FOUND, Phase.INSIDE_PREMISE})
"""The phases whose personal words speak of the customer's own supply or connection."""


def _phase_key(progress: Progress, phase: Phase) -> str:
    if progress.hazard:
        if phase is Phase.RESTORED:
            return "progress.hazard.made_safe"
        return "progress.hazard.checked" if phase is Phase.NO_OUTAGE_FOUND else "progress.hazard"
    if not progress.personal and phase in _PUBLIC_PHASES:
        return f"progress.public.{phase.value}"
    return f"progress.{phase.value}"


def describe(
    progress: Progress,
    language: Language | None,
    zone: tzinfo,
    ticket: str | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """The answer in one language, or in every one (Vietnamese first) when we do not know
    which. `ticket`: how the channel writes it (spelled out for speech)."""
    now = now or clock.now()
    if language is None:
        return " / ".join(describe(progress, each, zone, ticket, now=now) for each in LANGUAGES)
    words = catalogue("channels", language)
    shown = ticket or progress.ticket
    if progress.phase is None:
        return words[f"status.{progress.status.value}"].format(ticket=shown)
    at = times.when(progress.restored_at, language, zone, now) if progress.restored_at else ""
    parts = [words[_phase_key(progress, progress.phase)].format(ticket=shown, at=at)]
    if progress.cause is not None:
        cause = catalogue("crew", language)[f"cause.{progress.cause}"]
        parts.append(words["progress.cause"].format(cause=cause))
    if progress.etr is not None:
        etr = times.etr(
            max(progress.etr, now),
            _ahead(progress.etr_earliest, now),
            _ahead(progress.etr_latest, now),
            language,
            zone,
            now,
        )
        parts.append(words[_ETR_KEYS[progress.etr_scope]].format(etr=etr))
    if progress.assessing_damage:
        parts.append(words["progress.assessing_damage"])
    return " ".join(parts)
