"""Moving-window rate limits counted in this process's memory (`MovingWindows`).

limits' own memory storage expires old hits by scanning every key 100 times a second: in
a storm, with tens of thousands of phones reporting, that scan alone took about a twelfth
of each API worker's CPU. Here a key's old hits go when the key is hit again, and keys
idle for their window are swept once every so many hits. The limits themselves are
limits' items (`limits.parse("5/minute")`)."""

import threading
import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem

SWEEP_EVERY = 10_000
"""Hits between two sweeps of idle keys: a sweep costs a pass over the keys."""


class MovingWindows:
    """How many hits each key had within its item's window; wall time, not the clock's
    (`outage.clock`): a script floods at wall speed whatever a demo's speed."""

    def __init__(
        self, *, sweep_every: int = SWEEP_EVERY, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._hits: dict[tuple[str, ...], tuple[float, deque[float]]] = {}
        self._lock = threading.Lock()
        self._sweep_every = sweep_every
        self._since_sweep = 0
        self._now = now

    def __len__(self) -> int:
        """The keys held."""
        return len(self._hits)

    def hit(self, item: RateLimitItem, *key: str) -> float | None:
        """Count a hit of `key` against `item`: None when within the limit, else the
        seconds until the oldest hit in the window leaves it (the refused hit not counted)."""
        now = self._now()
        window = float(item.get_expiry())
        with self._lock:
            _, hits = self._hits.setdefault((item.key_for(), *key), (window, deque()))
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= item.amount:
                return hits[0] + window - now if hits else window
            hits.append(now)
            self._since_sweep += 1
            if self._since_sweep >= self._sweep_every:
                self._sweep(now)
        return None

    def _sweep(self, now: float) -> None:
        self._since_sweep = 0
        idle = [
            k for k, (window, hits) in self._hits.items() if not hits or hits[-1] <= now - window
        ]
        for key in idle:
            del self._hits[key]
