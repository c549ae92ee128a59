"""Which regions an engine works: the advisory locks it holds on its listening connection.

An engine holds a region while it holds the region's session lock (`ENGINE_REGION`,
region), taken with `pg_try_advisory_lock` on the connection it listens on. PostgreSQL
lets the lock go with that connection, so when an engine dies (or loses the database) a
waiting engine takes its region at its next try, within its poll.

An engine whose listening connection was lost may not know it yet (a connection killed, a
network gone half-open) while another engine already took its region: each cycle first
checks, in its own transaction, that the listening connection's backend still holds the
locks (`Claims.still_held`), and claims again when it does not.

A tie an operator closed joins regions into one electrical network (`outage.grid.regions`):
the engine of the lowest of them works them all and takes their locks; an engine holding
a higher one lets it go, and takes another free region or waits.
"""

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from outage import locks
from outage.grid.regions import Regions, closed_ties, read_regions
from outage.grid.switching import versions

_HELD = text(
    "SELECT objid::bigint AS region, pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid = :space AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
"""The engine region locks held now, and the backend holding each (`pg_try_advisory_lock`
with two keys puts them in classid, objid, with objsubid 2)."""


def holders(session: Session) -> dict[int, int]:
    """Region -> the backend pid of the engine holding it now."""
    rows = session.execute(_HELD, {"space": int(locks.LockSpace.ENGINE_REGION)})
    return {int(region): int(pid) for region, pid in rows}


class Claims:
    """The regions this engine holds, on the cursor of its listening connection."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.held: set[int] = set()
        cursor.execute("SELECT pg_backend_pid()")
        self.pid: int = cursor.fetchone()[0]
        """The listening connection's backend: the holder of this engine's locks."""

    def still_held(self, session: Session) -> bool:
        """The listening connection's backend holds every region this engine works, read
        on another connection: False once that connection died, even unnoticed here."""
        held = holders(session)
        return bool(self.held) and all(held.get(region) == self.pid for region in self.held)

    def lost(self) -> None:
        """The locks went with the connection: nothing is held, nothing to let go."""
        self.held.clear()

    def take(self, region: int) -> bool:
        """True when the region is now this engine's (it may have held it already)."""
        if region not in self.held:
            self._cursor.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (int(locks.LockSpace.ENGINE_REGION), region)
            )
            if not self._cursor.fetchone()[0]:
                return False
            self.held.add(region)
        return True

    def release(self, region: int) -> None:
        self._cursor.execute(
            "SELECT pg_advisory_unlock(%s, %s)", (int(locks.LockSpace.ENGINE_REGION), region)
        )
        self.held.discard(region)

    def release_all(self) -> None:
        for region in sorted(self.held):
            self.release(region)


class Layouts:
    """The configured regions on the network, read again when an import changed it."""

    def __init__(self, configured: Mapping[int, Sequence[str]]) -> None:
        self._configured = configured
        self._read: tuple[int, Regions] | None = None

    def get(self, session: Session) -> Regions:
        structure = versions(session).structure
        if self._read is None or self._read[0] != structure:
            self._read = (structure, read_regions(session, self._configured))
        return self._read[1]


def unworked(session: Session, configured: Collection[int]) -> list[int]:
    """The configured regions no engine holds now."""
    return sorted(set(configured) - holders(session).keys())


def claim(
    claims: Claims, regions: Regions, wanted: int | None, closed: Collection[str]
) -> int | None:
    """Take `wanted`, or else the first free region, with the regions tied to it: the
    region taken, or None when there is none to take now."""
    for region in regions.numbers if wanted is None else (wanted,):
        if claims.take(region) and settle(claims, regions, region, closed):
            return region
    return None


def settle(claims: Claims, regions: Regions, home: int, closed: Collection[str]) -> bool:
    """Hold the regions the closed ties join to `home`, and no others. False, holding
    nothing, when a lower one of them is another engine's: that engine works them all.
    A higher one held elsewhere is left for a later try, once its engine let it go."""
    group = regions.joined(home, closed)
    for region in sorted(group - claims.held):
        if not claims.take(region) and region < home:
            claims.release_all()
            return False
    for region in sorted(claims.held - group):
        claims.release(region)
    return True


def settle_now(claims: Claims, layouts: Layouts, session: Session, home: int) -> Regions | None:
    """`settle` on the regions and ties as they are now; the regions, None when lost."""
    regions = layouts.get(session)
    if not settle(claims, regions, home, closed_ties(session, regions.ties)):
        return None
    return regions
