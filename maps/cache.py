"""A short-lived in-process cache of one serialized answer, computed once however many ask.

During a storm thousands of people reload the public map; with this cache a worker reads
the database at most once per time-to-live, and callers arriving while the value is being
computed wait for that one computation instead of starting their own (single flight).
"""

import hashlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cached:
    body: bytes
    etag: str
    stored_at: float
    """On the cache's clock (monotonic seconds)."""
    key: Hashable = None
    """What it was computed for (a version), if the caller keys it."""


class TtlCache:
    """One value per cache; `fresh()` never blocks, `get()` computes when stale."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Cached | None = None

    def fresh(self, key: Hashable = None) -> Cached | None:
        """The value if it is younger than the time-to-live and was computed for `key`,
        else None."""
        value = self._value
        if value is not None and value.key == key and self._clock() - value.stored_at < self.ttl_s:
            return value
        return None

    def get(self, compute: Callable[[], bytes], key: Hashable = None) -> Cached:
        """The fresh value, computing it first when there is none; one computation at a
        time, and those who waited for it share its result. A value computed for another
        `key` (what the data was read from, a version) is stale."""
        value = self.fresh(key)
        if value is not None:
            return value
        with self._lock:
            value = self.fresh(key)
            if value is None:
                body = compute()
                digest = hashlib.blake2b(body, digest_size=12).hexdigest()
                value = Cached(body=body, etag=f'"{digest}"', stored_at=self._clock(), key=key)
                self._value = value
            return value
