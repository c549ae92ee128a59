"""Per-caller rate limits, so one script or one stuck phone cannot flood the queue."""

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class RateLimited(Exception):
    def __init__(self, what: str, retry_after_s: int) -> None:
        super().__init__(f"too many reports from this {what}; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass
class IntakeLimits:
    """Moving-window limits per client address and per reporting phone.

    Counted in this process's memory: with several API workers each enforces its own
    share, which is enough to stop a flood without a shared store.
    """

    per_ip: RateLimitItem
    per_phone: RateLimitItem
    limiter: MovingWindowRateLimiter

    @classmethod
    def from_strings(cls, per_ip: str, per_phone: str) -> "IntakeLimits":
        return cls(parse(per_ip), parse(per_phone), MovingWindowRateLimiter(MemoryStorage()))

    def check(self, *, ip: str | None, phone: str | None) -> None:
        for what, item, key in (("address", self.per_ip, ip), ("phone", self.per_phone, phone)):
            if key is not None and not self.limiter.hit(item, what, key):
                reset = self.limiter.get_window_stats(item, what, key).reset_time
                raise RateLimited(what, max(1, int(reset - time.time())))
