"""GeoReport v2 documents as JSON or XML, and its error format.

XML is built with ElementTree, which escapes markup; characters XML 1.0 cannot carry at
all (most control characters) are dropped, so any text, even a client's, stays
well-formed.
"""

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from outage.errors import DomainError

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
"""The element of each member of a nested list, as the specification names them."""


class Format(StrEnum):
    JSON = "json"
    XML = "xml"

    @property
    def media_type(self) -> str:
        return "application/json" if self is Format.JSON else "text/xml"


class Open311Error(DomainError):
    """A refusal a GeoReport client understands: an HTTP status and a description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def format_of(suffix: str) -> Format:
    """The `.json` or `.xml` a resource was asked for; 404 for anything else."""
    try:
        return Format(suffix.lower())
    except ValueError:
        raise Open311Error(404, f"unknown format {suffix!r}: use .json or .xml") from None


def format_of_path(path: str) -> Format:
    """Errors answer in the format asked for; JSON when the path names none we know."""
    return Format.XML if path.lower().endswith(".xml") else Format.JSON


def encode(
    content: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: Format,
    *,
    root: str,
    item: str | None = None,
) -> bytes:
    """A list becomes `<root><item>...</item></root>` in XML; a mapping `<root>...</root>`."""
    if fmt is Format.JSON:
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    else:
        element = ET.Element(root)
        if isinstance(content, Mapping):
            _fill(element, content)
        else:
            assert item is not None, "a list needs the tag of its members"
            for member in content:
                _fill(ET.SubElement(element, item), member)
        body = XML_DECLARATION + ET.tostring(element, encoding="unicode")
    return body.encode("utf-8")


def errors_document(status: int, descriptions: Sequence[str]) -> list[dict[str, Any]]:
    """GeoReport's error list: one entry per problem, each with the HTTP status as code."""
    return [{"code": status, "description": d} for d in descriptions]


def _fill(element: ET.Element, content: Mapping[str, Any]) -> None:
    for tag, value in content.items():
        _append(element, tag, value)


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    child = ET.SubElement(parent, tag)
    if value is None:
        return
    if isinstance(value, Mapping):
        _fill(child, value)
    elif isinstance(value, list | tuple):
        for member in value:
            _append(child, _ITEM_TAGS[tag], member)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    else:
        child.text = _NOT_XML.sub("", str(value))
