"""Where public reads go: a streaming-replication standby while it is close enough behind
the primary, else the primary.

The public map, the public feeds, the reliability reports and the published figures only
read, and the same data for every visitor: a standby (`DATABASE_REPLICA_URL`) can serve
them and keep a storm's viewers off the primary. Its data may be behind, so it is used only
while the lag is within `replica_max_lag_s`, checked at most once a second:

- the primary's WAL insert position is read first, then the standby's replay position;
  when the standby has replayed that far it holds everything committed before the check,
  and its lag is taken as none;
- otherwise its data is at most `now() - pg_last_xact_replay_timestamp()` old (whatever
  it has not replayed was committed after the last transaction it has), which is the lag
  compared with the bound. After a long quiet spell this overstates the lag of a standby
  that is just replaying a fresh write, so reads go to the primary for a moment: the safe
  side.

A standby that cannot be asked (down, refusing connections, not in recovery) counts as
too far behind. Each change of source is logged once, not each request.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
"""How long one look at the standby's lag is trusted."""

_PRIMARY_POSITION = text("SELECT pg_current_wal_insert_lsn()")
_STANDBY_LAG = text(
    "SELECT pg_is_in_recovery(),"
    " pg_last_wal_replay_lsn() >= CAST(:primary AS pg_lsn),"
    " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
)


@dataclass(frozen=True)
class Lag:
    """One look at the standby: how far behind it was (None: it could not be asked)."""

    seconds: float | None
    checked_at: float

    def within(self, bound: timedelta) -> bool:
        return self.seconds is not None and self.seconds <= bound.total_seconds()


@dataclass
class ReadSessions:
    """The sessions of public reads: the standby's while its lag is within `max_lag`, else
    the primary's. Without a standby, always the primary's."""

    primary: sessionmaker[Session]
    replica: sessionmaker[Session] | None = None
    max_lag: timedelta = timedelta(seconds=10)
    check_every_s: float = CHECK_EVERY_S
    last: Lag | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _on_replica: bool | None = field(default=None, repr=False)

    def fresh(self) -> sessionmaker[Session] | None:
        """The sessions to read with when the last look is recent; None when it is time to
        look again (`choose`, which does I/O). Never blocks."""
        if self.replica is None:
            return self.primary
        last = self.last
        if last is None or time.monotonic() - last.checked_at > self.check_every_s:
            return None
        return self.replica if last.within(self.max_lag) else self.primary

    def choose(self) -> sessionmaker[Session]:
        """The sessions to read with, looking at the standby's lag when the last look is
        stale (blocks: a thread's). Requests arriving together look once."""
        chosen = self.fresh()
        if chosen is not None:
            return chosen
        with self._lock:
            chosen = self.fresh()
            if chosen is not None:
                return chosen
            assert self.replica is not None
            self.last = Lag(self.lag_s(), time.monotonic())
            use_replica = self.last.within(self.max_lag)
            self._tell(use_replica)
            return self.replica if use_replica else self.primary

    def lag_s(self) -> float | None:
        """How far behind the standby is now, in seconds (0 when it has replayed all the
        primary had written); None when it cannot be asked or is not a standby."""
        assert self.replica is not None
        try:
            with self.primary() as session:
                position = session.scalar(_PRIMARY_POSITION)
            with self.replica() as session:
                row = session.execute(_STANDBY_LAG, {"primary": str(position)}).one()
        except SQLAlchemyError as exc:
            log.debug("the read replica cannot be asked for its lag: %s", exc)
            return None
        in_recovery, caught_up, behind_s = row
        if not in_recovery:
            return None
        if caught_up:
            return 0.0
        return None if behind_s is None else max(0.0, float(behind_s))

    def _tell(self, use_replica: bool) -> None:
        """Log a change of source (and the first choice), once."""
        if use_replica == self._on_replica:
            return
        self._on_replica = use_replica
        if use_replica:
            log.info("public reads go to the read replica (lag %.1f s)", self._lag_shown())
        elif self.last is not None and self.last.seconds is None:
            log.warning("the read replica cannot be reached: public reads go to the primary")
        else:
            log.warning(
                "the read replica is %.1f s behind (bound %.1f s): public reads go to the primary",
                self._lag_shown(),
                self.max_lag.total_seconds(),
            )

    def _lag_shown(self) -> float:
        return self.last.seconds or 0.0 if self.last is not None else 0.0
