"""docs/architecture.md names files and functions: each one exists, so the map a newcomer
reads is the territory."""

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")

PATHS = sorted(
    set(re.findall(r"`((?:outage|grid_topology|dispatch|maps|tests|docs)/[^`<>* ]*)`", DOC))
)
"""Paths in backticks (placeholders such as `outage/<domain>/` are left out)."""


def _stops(doc: str) -> list[tuple[str, str]]:
    """The report's way: each step's module (an indented line continues the one above) and
    the function, or Class.method, that does it."""
    stops, module = set(), ""
    for line in doc.split("## One report's way", 1)[1].split("## ", 1)[0].splitlines():
        found = re.match(r"^(\S+\.py)?\s+([A-Za-z_][\w.]*)\s{2,}", line)
        if found is None:
            continue
        module = found.group(1) or module
        stops.add((module, found.group(2)))
    return sorted(stops)


STOPS = _stops(DOC)
NAMED_IN = sorted(set(re.findall(r"`([A-Za-z_]\w*)` in `([\w/]+\.py)`", DOC)))
"""Phrases like "`every` in `outage/scheduler.py`"."""


@cache
def _defined(path: str) -> frozenset[str]:
    """Top-level functions and classes of a module, and Class.method for its methods."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return frozenset(names)


def test_the_document_names_what_it_is_checked_for() -> None:
    assert len(PATHS) > 10 and len(STOPS) > 10 and NAMED_IN


@pytest.mark.parametrize("path", PATHS)
def test_every_path_it_names_exists(path: str) -> None:
    assert (ROOT / path).exists(), path


@pytest.mark.parametrize(("path", "name"), STOPS + [(p, n) for n, p in NAMED_IN])
def test_every_function_it_names_is_defined_there(path: str, name: str) -> None:
    assert name in _defined(path), f"{name} is not defined in {path}"
