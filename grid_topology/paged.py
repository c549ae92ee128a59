"""A mapping whose edited copies share storage with it, so that a small change is cheap.

A switching change moves a few entries, a few thousand at most, of the maps that orient a
network (one entry per node and device of a city, millions), and the maps before the change
must stay intact for whoever still reads them. Copying a whole dict of millions of entries
takes about a second, so `PagedMap` spreads its keys over small pages by hash instead: an
edited copy copies the list of pages, then each page the first time it writes to it.
Changing k entries costs about k pages of a few dozen entries plus one list of references
to the pages.
"""

from collections.abc import Hashable, Iterator, Mapping
from itertools import chain
from typing import TypeVar, overload

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

ENTRIES_PER_PAGE = 32


class PagedMap(Mapping[K, V]):
    """Read-only, except for a copy made by `edited`, which only its maker writes to."""

    __slots__ = ("_length", "_mask", "_pages", "_writable")

    def __init__(self, items: Mapping[K, V], *, capacity: int = 0) -> None:
        """`capacity`: the number of keys the map and its copies are expected to hold."""
        count = max(len(items), capacity) // ENTRIES_PER_PAGE
        self._pages: list[dict[K, V]] = [{} for _ in range(1 << count.bit_length())]
        self._mask = len(self._pages) - 1
        self._length = len(items)
        self._writable: set[int] | None = None
        """Pages this copy has already copied and may write to; None: not to be written."""
        for key, value in items.items():
            self._pages[hash(key) & self._mask][key] = value

    def edited(self) -> "PagedMap[K, V]":
        """A copy to write to, sharing every page with this map until it writes to it."""
        copy: PagedMap[K, V] = PagedMap.__new__(PagedMap)
        copy._pages = list(self._pages)
        copy._mask = self._mask
        copy._length = self._length
        copy._writable = set()
        return copy

    def __getitem__(self, key: K) -> V:
        return self._pages[hash(key) & self._mask][key]

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | T, /) -> V | T: ...
    def get(self, key: K, default: V | T | None = None, /) -> V | T | None:
        return self._pages[hash(key) & self._mask].get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._pages[hash(key) & self._mask]

    def __iter__(self) -> Iterator[K]:
        return chain.from_iterable(self._pages)

    def __len__(self) -> int:
        return self._length

    def __setitem__(self, key: K, value: V) -> None:
        page = self._page_to_write(key)
        self._length += key not in page
        page[key] = value

    def discard(self, key: K) -> None:
        """Remove the key if it is there."""
        page = self._page_to_write(key)
        if key in page:
            del page[key]
            self._length -= 1

    def _page_to_write(self, key: K) -> dict[K, V]:
        if self._writable is None:
            raise TypeError("only a copy made by edited() may be written to")
        index = hash(key) & self._mask
        if index not in self._writable:
            self._pages[index] = dict(self._pages[index])
            self._writable.add(index)
        return self._pages[index]

    def to_dict(self) -> dict[K, V]:
        """A plain dict of the same entries, built a page at a time."""
        merged: dict[K, V] = {}
        for page in self._pages:
            merged.update(page)
        return merged
