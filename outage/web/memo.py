"""Answers that are costly to compute and the same for everyone for a while (the published
figures), kept per key for a time-to-live, a bounded number of keys, computed one at a
time: a crowd of visitors, or one asking for many ranges, costs the database one
computation at a time."""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    def __init__(self, ttl_s: float, size: int, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value kept for `key` if younger than the time-to-live, else computed now
        (while others wait) and kept, the oldest key dropped beyond `size`."""
        with self._lock:
            kept = self._values.get(key)
            if kept is not None and self._clock() - kept[0] < self.ttl_s:
                return kept[1]
            value = compute()
            self._values[key] = (self._clock(), value)
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
            return value
