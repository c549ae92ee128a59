"""The service's one "now": the wall clock, or for a demo or a drill a scaled clock.

Every time the service records, promises or compares events by (an outage's start, an
ETR, when a message is due, what is "active in the last hour") comes from `now()`. It is
the wall clock unless `clock_epoch` is set; then time runs `clock_speed` times faster from
that moment on (`scaled`). The mapping depends only on the wall clock and the two
settings, so every process given the same settings (the API server, the engine's jobs and
workers, a storm simulator) reads the same time without talking to the others.

Wall time (`datetime.now(UTC)`) stays where real people and real machines wait, not the
story of an outage:
- staff sign-in sessions and API tokens, and their sign-in throttles (signing in, out,
  disabling a user, revoking a key): a twelve-hour shift must last twelve hours whatever
  the demo's speed;
- rate limits on requests (`outage/intake/limits.py`, the public map's search);
- one-time codes for alert contacts and their hourly limits, and the guesses at a
  ticket's phone (`outage/intake/owners.py`) and the purge of those counters: a person
  types the code, a script guesses at wall speed;
- when the scheduler first runs a job and its intervals (APScheduler's), and the name of a
  database dump.
A delivery worker's lease and its back-off from a failing gateway are wall waits stored
beside due times in clock time: they are stretched by `span`. Durations measured inside
one process use `time.monotonic()`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from outage.settings import MAX_SPEED, Settings, get_settings


def scaled(wall: datetime, *, epoch: datetime, speed: float) -> datetime:
    """The scaled clock's time at a wall time: `speed` times as far from `epoch`."""
    return epoch + (wall - epoch) * speed


@dataclass(frozen=True)
class Clock:
    """The wall clock (no epoch), or a scaled one."""

    epoch: datetime | None = None
    speed: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.speed <= MAX_SPEED:
            raise ValueError(f"a clock's speed is above 0 and at most {MAX_SPEED:g}")
        if self.epoch is None and self.speed != 1:
            raise ValueError("a faster clock needs its epoch: the moment it starts from")
        if self.epoch is not None and self.epoch.utcoffset() is None:
            raise ValueError("a clock's epoch needs its offset from UTC")

    @classmethod
    def of(cls, settings: Settings) -> "Clock":
        return cls(settings.clock_epoch, settings.clock_speed)

    def now(self) -> datetime:
        return self.at(datetime.now(UTC))

    def at(self, wall: datetime) -> datetime:
        """This clock's time when the wall clock read `wall` (in UTC)."""
        if self.epoch is None:
            return wall.astimezone(UTC)
        return scaled(wall, epoch=self.epoch, speed=self.speed).astimezone(UTC)

    def span(self, wall: timedelta) -> timedelta:
        """How much of this clock's time passes in `wall` of the wall clock's."""
        return wall * self.speed

    def environment(self) -> dict[str, str]:
        """The settings that give another process this clock."""
        if self.epoch is None:
            return {}
        return {
            "OUTAGE_CLOCK_EPOCH": self.epoch.isoformat(),
            "OUTAGE_CLOCK_SPEED": repr(self.speed),
        }


def current() -> Clock:
    """The clock the settings give."""
    return Clock.of(get_settings())


def now() -> datetime:
    """The service's time now (aware, in UTC)."""
    return current().now()
