"""Every word the service shows, says or sends, in Vietnamese (the default) and English.

One `Language` enum for the whole service, the choice of a request's language, and the
catalogues: data files `catalogues/<language>/<domain>.json`, one per language and domain
(pages, crew, follow_up, channels, open311, notifications, alerts). How to add a string or a
language: docs/i18n.md. This package imports nothing else of the service: domain
packages, pages and channels import it.
"""

from outage.i18n.catalogue import CATALOGUES, catalogue, read_catalogue
from outage.i18n.labels import (
    agent_status_label,
    channel_label,
    critical_label,
    hazard_label,
    label,
    request_state_label,
    request_type_label,
    sla_label,
    status_text,
    strings,
)
from outage.i18n.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Language,
    choose_language,
    from_accept_language,
    other_language,
    supported,
)

__all__ = [
    "CATALOGUES",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Language",
    "agent_status_label",
    "catalogue",
    "channel_label",
    "choose_language",
    "critical_label",
    "from_accept_language",
    "hazard_label",
    "label",
    "other_language",
    "read_catalogue",
    "request_state_label",
    "request_type_label",
    "sla_label",
    "status_text",
    "strings",
    "supported",
]
