"""The public feeds as XML: CAP 1.2 alerts (OASIS) and Atom 1.0 feeds (RFC 4287).

Built as element trees, so every text is escaped by the serializer. Each CAP message is
one state of one incident: its identifier carries the incident's version, so the same
state always has the same identifier and a new state a new one. The incident's first
message is an `Alert`; later ones are `Update`s that reference it; a restored outage is
an `Update` saying all clear (its urgency `Past`), a cancelled one a `Cancel`.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, tzinfo
from urllib.parse import urlencode

from outage import i18n
from outage.i18n import Language, times
from outage.i18n.labels import label
from outage.moments import local_time
from outage.pages.feed_sources import Alert, Phase, PublicSnapshot

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"
CAP_LANGUAGES = {Language.VI: "vi-VN", Language.EN: "en-US"}
CAP_PATH = "/api/v1/public/cap"
ATOM_PATH = "/api/v1/public/feed.atom"
SEVERE_FACTOR = 10
"""An outage this many times the alert threshold is `Severe`, not `Moderate`."""
SEVERE_HAZARDS = frozenset({"wires_down", "fire"})

ET.register_namespace("", ATOM_NS)
ET.register_namespace("cap", CAP_NS)


@dataclass(frozen=True)
class FeedContext:
    """What every feed needs besides the snapshot: who sends, where, in which zone."""

    sender: str
    base_url: str
    zone: tzinfo
    alert_customers: int

    def url(self, path: str, language: Language | None = None) -> str:
        query = f"?{urlencode({'lang': language.value})}" if language else ""
        return f"{self.base_url.rstrip('/')}{path}{query}"


def _cap_time(moment: datetime, zone: tzinfo) -> str:
    """CAP's date-time: to the second, with the zone's offset (never `Z`)."""
    return (local_time(moment, zone) or moment).isoformat(timespec="seconds")


def _atom_time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def identifier(alert: Alert, sender: str, *, version: int | None = None) -> str:
    """The CAP identifier of one state (version) of an alert's incident."""
    return f"{sender}.incident-{alert.incident_id}.{version or alert.version}"


def _msg_type(alert: Alert) -> str:
    if alert.phase is Phase.CANCELLED:
        return "Cancel"
    return "Alert" if alert.version == 1 else "Update"


def _severity(alert: Alert, ctx: FeedContext) -> str:
    if alert.phase is not Phase.ACTIVE:
        return "Minor"
    if alert.hazard:
        return "Severe" if alert.hazard_kind in SEVERE_HAZARDS else "Moderate"
    return "Severe" if alert.customers_out >= SEVERE_FACTOR * ctx.alert_customers else "Moderate"


def _urgency(alert: Alert) -> str:
    if alert.phase is not Phase.ACTIVE:
        return "Past"
    return "Immediate" if alert.hazard else "Expected"


def _area_name(alert: Alert, language: Language) -> str:
    words = i18n.catalogue("feeds", language)
    return ", ".join(alert.areas) or words["area.unknown"]


def headline(alert: Alert, language: Language) -> str:
    """One line saying what and where, in `language`."""
    words = i18n.catalogue("feeds", language)
    area = _area_name(alert, language)
    if alert.phase is Phase.RESTORED:
        return words["headline.restored"].format(area=area)
    if alert.phase is Phase.CANCELLED:
        return words["headline.cancelled"].format(area=area)
    if alert.hazard:
        hazard = label(language, "hazard", alert.hazard_kind or "none")
        return words["headline.hazard"].format(area=area, hazard=hazard)
    return words["headline.outage"].format(area=area, customers=alert.customers_out)


def description(alert: Alert, language: Language, zone: tzinfo) -> str:
    """Since when, and when power is expected back (or was back), in `language`."""
    words = i18n.catalogue("feeds", language)

    def when(moment: datetime) -> str:
        return times.when(moment, language, zone)

    if alert.phase is Phase.CANCELLED:
        return words["description.cancelled"]
    parts = [words["description.started"].format(time=when(alert.started_at))]
    if alert.phase is Phase.RESTORED and alert.restored_at is not None:
        parts.append(words["description.restored"].format(time=when(alert.restored_at)))
    elif alert.etr is not None:
        etr = times.etr(alert.etr, alert.etr_earliest, alert.etr_latest, language, zone)
        parts.append(words["description.etr"].format(time=etr))
    elif not alert.hazard:
        parts.append(words["description.no_etr"])
    return " ".join(parts)


def _instruction(alert: Alert, language: Language, web: str) -> str:
    words = i18n.catalogue("feeds", language)
    if alert.phase is not Phase.ACTIVE:
        return words["instruction.restored"].format(web=web)
    if alert.hazard:
        return i18n.strings(language)["hazard_warning"]
    return words["instruction.outage"].format(web=web)


def _sub(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _info(alert: Alert, language: Language, ctx: FeedContext) -> ET.Element:
    words = i18n.catalogue("feeds", language)
    cap = f"{{{CAP_NS}}}"
    info = ET.Element(f"{cap}info")
    _sub(info, f"{cap}language", CAP_LANGUAGES[language])
    _sub(info, f"{cap}category", "Safety" if alert.hazard else "Infra")
    _sub(info, f"{cap}event", words["event.hazard" if alert.hazard else "event.outage"])
    if alert.phase is not Phase.ACTIVE:
        _sub(info, f"{cap}responseType", "AllClear")
    elif alert.hazard:
        _sub(info, f"{cap}responseType", "Avoid")
    _sub(info, f"{cap}urgency", _urgency(alert))
    _sub(info, f"{cap}severity", _severity(alert, ctx))
    _sub(info, f"{cap}certainty", "Likely" if alert.predicted else "Observed")
    _sub(info, f"{cap}onset", _cap_time(alert.started_at, ctx.zone))
    _sub(info, f"{cap}senderName", words["cap.sender_name"])
    _sub(info, f"{cap}headline", headline(alert, language))
    _sub(info, f"{cap}description", description(alert, language, ctx.zone))
    web = ctx.url("/map", language)
    _sub(info, f"{cap}instruction", _instruction(alert, language, web))
    _sub(info, f"{cap}web", web)
    area = ET.SubElement(info, f"{cap}area")
    _sub(area, f"{cap}areaDesc", _area_name(alert, language))
    for ring in alert.outline:
        _sub(area, f"{cap}polygon", " ".join(f"{lat},{lon}" for lat, lon in ring))
    return info


def cap_alert(alert: Alert, ctx: FeedContext) -> ET.Element:
    """One CAP 1.2 `alert`: this state of the incident, in Vietnamese and English."""
    cap = f"{{{CAP_NS}}}"
    root = ET.Element(f"{cap}alert")
    _sub(root, f"{cap}identifier", identifier(alert, ctx.sender))
    _sub(root, f"{cap}sender", ctx.sender)
    _sub(root, f"{cap}sent", _cap_time(alert.updated_at, ctx.zone))
    _sub(root, f"{cap}status", "Actual")
    _sub(root, f"{cap}msgType", _msg_type(alert))
    _sub(root, f"{cap}scope", "Public")
    if alert.version != 1:
        first = identifier(alert, ctx.sender, version=1)
        sent = _cap_time(alert.created_at, ctx.zone)
        _sub(root, f"{cap}references", f"{ctx.sender},{first},{sent}")
    _sub(root, f"{cap}incidents", f"{ctx.sender}.incident-{alert.incident_id}")
    root.extend(_info(alert, language, ctx) for language in CAP_LANGUAGES)
    return root


def _document(root: ET.Element) -> bytes:
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def cap_document(alert: Alert, ctx: FeedContext) -> bytes:
    return _document(cap_alert(alert, ctx))


def _feed(
    ctx: FeedContext, language: Language, *, path: str, title: str, updated: datetime
) -> ET.Element:
    atom = f"{{{ATOM_NS}}}"
    words = i18n.catalogue("feeds", language)
    feed = ET.Element(f"{atom}feed", {XML_LANG: language.value})
    _sub(feed, f"{atom}id", ctx.url(path, language))
    _sub(feed, f"{atom}title", title)
    _sub(feed, f"{atom}subtitle", words["feed.subtitle"])
    _sub(feed, f"{atom}updated", _atom_time(updated))
    author = ET.SubElement(feed, f"{atom}author")
    _sub(author, f"{atom}name", words["feed.author"])
    ET.SubElement(
        feed, f"{atom}link", rel="self", href=ctx.url(path, language), type=ATOM_MEDIA_TYPE
    )
    ET.SubElement(
        feed, f"{atom}link", rel="alternate", href=ctx.url("/map", language), type="text/html"
    )
    return feed


def _entry(feed: ET.Element, alert: Alert, language: Language, *, entry_id: str) -> ET.Element:
    atom = f"{{{ATOM_NS}}}"
    entry = ET.SubElement(feed, f"{atom}entry")
    _sub(entry, f"{atom}id", entry_id)
    _sub(entry, f"{atom}title", headline(alert, language))
    _sub(entry, f"{atom}updated", _atom_time(alert.updated_at))
    _sub(entry, f"{atom}published", _atom_time(alert.created_at))
    return entry


def atom_feed(snapshot: PublicSnapshot, ctx: FeedContext, language: Language) -> bytes:
    """The alerts as an Atom feed in `language`: one entry per incident, its summary the
    description the CAP alert gives."""
    atom = f"{{{ATOM_NS}}}"
    words = i18n.catalogue("feeds", language)
    updated = snapshot.updated_at
    feed = _feed(ctx, language, path=ATOM_PATH, title=words["feed.title"], updated=updated)
    for alert in snapshot.alerts:
        entry_id = f"{ctx.url('/map')}#incident-{alert.incident_id}"
        entry = _entry(feed, alert, language, entry_id=entry_id)
        _sub(entry, f"{atom}summary", description(alert, language, ctx.zone))
        ET.SubElement(entry, f"{atom}link", rel="alternate", href=ctx.url("/map", language))
        cap_url = ctx.url(f"{CAP_PATH}/{identifier(alert, ctx.sender)}")
        ET.SubElement(entry, f"{atom}link", rel="related", href=cap_url, type=CAP_MEDIA_TYPE)
    return _document(feed)


def cap_index(snapshot: PublicSnapshot, ctx: FeedContext, language: Language) -> bytes:
    """The CAP alerts as an Atom feed: one entry per message, the CAP `alert` its content
    and its own address the entry's link (the OASIS CAP feeds' practice)."""
    atom = f"{{{ATOM_NS}}}"
    words = i18n.catalogue("feeds", language)
    updated = snapshot.updated_at
    feed = _feed(ctx, language, path=CAP_PATH, title=words["cap.title"], updated=updated)
    for alert in snapshot.alerts:
        url = ctx.url(f"{CAP_PATH}/{identifier(alert, ctx.sender)}")
        entry = _entry(feed, alert, language, entry_id=url)
        _sub(entry, f"{atom}summary", description(alert, language, ctx.zone))
        ET.SubElement(entry, f"{atom}link", rel="alternate", href=url, type=CAP_MEDIA_TYPE)
        content = ET.SubElement(entry, f"{atom}content", type=CAP_MEDIA_TYPE)
        content.append(cap_alert(alert, ctx))
    return _document(feed)
