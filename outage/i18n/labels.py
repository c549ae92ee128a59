"""The pages' words for the values of closed vocabularies (hazards, statuses, channels...).

Each vocabulary is a table of keys `<table>.<value>` in the pages' catalogue, so this
module needs none of the domain packages whose enums it names; a test checks that every
member of every such enum has its words in every language.
"""

from collections.abc import Mapping
from enum import StrEnum

from outage.i18n.catalogue import catalogue
from outage.i18n.languages import Language


def strings(language: Language) -> Mapping[str, str]:
    """All the pages' strings in one language (Vietnamese for a code we have none for)."""
    return catalogue("pages", language)


def label(language: Language, table: str, value: str) -> str:
    """The words for `value` of the vocabulary `table` (the key `<table>.<value>`)."""
    return strings(language)[f"{table}.{value}"]


def hazard_label(language: Language, hazard: StrEnum | None) -> str:
    return label(language, "hazard", hazard or "none")


def status_text(language: Language, status: StrEnum) -> str:
    """A report's status as a sentence to the customer."""
    return label(language, "report_status", status)


def agent_status_label(language: Language, status: StrEnum) -> str:
    """A report's status in a word or two, for staff (status_text speaks to the customer)."""
    return label(language, "agent_status", status)


def channel_label(language: Language, channel: StrEnum) -> str:
    return label(language, "channel", channel)


def critical_label(language: Language, critical: str) -> str:
    """Why a customer is restored first; a reason we have no words for is shown as stored."""
    return strings(language).get(f"critical.{critical}", critical)


def request_type_label(language: Language, request_type: StrEnum) -> str:
    """A request type's name, as the Open311 service list gives it."""
    return catalogue("open311", language)[f"service.{request_type}.name"]


def request_state_label(language: Language, state: StrEnum) -> str:
    return label(language, "request_state", state)


def sla_label(language: Language, standing: StrEnum) -> str:
    return label(language, "sla", standing)
