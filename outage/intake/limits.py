"""Per-caller rate limits, so one script or one stuck phone cannot flood the queue."""

import math
from dataclasses import dataclass, field

from limits import RateLimitItem, parse

from outage.errors import RateLimited
from outage.rate_limits import MovingWindows


@dataclass
class IntakeLimits:
    """Moving-window limits per client address and per reporting phone.

    Counted in this process's memory: with several API workers each enforces its own
    share, which is enough to stop a flood without a shared store.
    """

    per_ip: RateLimitItem
    per_phone: RateLimitItem
    limiter: MovingWindows
    status_guesses: RateLimitItem = field(default_factory=lambda: parse("10/15minutes"))
    """Wrong phone checks of one ticket from one address before further checks are refused
    (counted in the database: `outage.intake.owners.verify_owner`)."""

    @classmethod
    def from_strings(
        cls, per_ip: str, per_phone: str, status_guesses: str = "10/15minutes"
    ) -> "IntakeLimits":
        return cls(
            parse(per_ip),
            parse(per_phone),
            MovingWindows(),
            parse(status_guesses),
        )

    def check(self, *, ip: str | None, phone: str | None, phone_verified: bool = False) -> None:
        """Count one report against its client address and phone; RateLimited when over.

        A phone the channel vouches for (the SMS gateway's sender, the IVR's caller ID)
        has a bucket of its own, apart from a phone merely named in a form or an API call:
        a stranger naming someone's phone cannot stop that customer's own SMS and calls.
        """
        bucket = "phone" if phone_verified else "named phone"
        for what, item, key in (("address", self.per_ip, ip), (bucket, self.per_phone, phone)):
            if key is not None and (wait := self.limiter.hit(item, what, key)) is not None:
                raise RateLimited(what, max(1, math.ceil(wait)))
