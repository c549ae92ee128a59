"""Everything the channels say to customers, in Vietnamese and English.

The templates are the `channels` catalogue of `outage.i18n`, written once with their
accents; SMS replies are sent folded to plain GSM-7 letters ("Da nhan bao mat dien"), so
a reply stays one 160-character message, and the IVR speaks them with accents, so
text-to-speech pronounces them right.
"""

from outage.i18n import LANGUAGES, Language, catalogue
from outage.intake.channels.common import fold

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 basic character set: text made of these fits 160 characters per SMS."""

SMS_MAX = 160


def render(key: str, language: Language | None, **values: str) -> str:
    """The text in one language, or in every one (Vietnamese first) when we do not know which.

    The templates are the `channels` catalogue (`outage/i18n/catalogues/<language>/`)."""
    if language is None:
        return " / ".join(render(key, each, **values) for each in LANGUAGES)
    return catalogue("channels", language)[key].format(**values)


def sms_text(text: str, limit: int = SMS_MAX) -> str:
    """Plain GSM-7 text of at most one SMS (or `limit` characters): accents folded, other
    characters replaced."""
    folded = fold(text).replace("…", "...")
    safe = "".join(char if char in GSM7_BASIC else "?" for char in folded)
    return safe if len(safe) <= limit else safe[: limit - 3] + "..."


def spoken_ticket(ticket: str) -> str:
    """'261125-ABCDE' as text-to-speech should read it: '2 6 1 1 2 5, A B C D E'."""
    return ", ".join(" ".join(part) for part in ticket.split("-"))
