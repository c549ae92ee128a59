"""The evidence the engine attached to its incidents, held between cycles: a storm's
hundred thousand references are not sent again every cycle, and an incident nothing new
points to is not written at all.

What a cycle attached is held only once its transaction commits (`AttachedEvidence.committed`),
and an incident's entry is trusted only while its row is at the version the engine left
it at: a dispatcher's split, a merge or another process's change moves the version, and
the engine then sends all its evidence again. Reports are never held: attaching one also
points it at the incident, and another incident may have taken it since.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.incidents.enums import EvidenceSource
from outage.incidents.evidence import EvidenceRef
from outage.incidents.models import Incident


@dataclass(frozen=True)
class _Held:
    version: int
    """The incident's row version once the engine's cycle wrote it."""
    refs: frozenset[EvidenceRef]


class AttachedEvidence:
    """One engine's memory of what it attached; not shared between threads."""

    def __init__(self) -> None:
        self._held: dict[int, _Held] = {}
        self._staged: dict[int, _Held] | None = None

    def known(self, incident_id: int, version: int) -> frozenset[EvidenceRef]:
        """The evidence the incident holds for sure, at the version read this cycle."""
        held = self._held.get(incident_id)
        return held.refs if held is not None and held.version == version else frozenset()

    def stage(self, session: Session, attached: dict[int, frozenset[EvidenceRef]]) -> None:
        """What this cycle attached (incident -> all its evidence), at the versions the
        cycle leaves the incidents at; the next `stage` replaces it if it never commits."""
        session.flush()
        rows = session.execute(
            select(Incident.id, Incident.version).where(Incident.id.in_(sorted(attached)))
        )
        self._staged = {
            incident_id: _Held(
                version,
                frozenset(
                    r for r in attached[incident_id] if r.source is not EvidenceSource.REPORT
                ),
            )
            for incident_id, version in rows
        }

    def committed(self) -> None:
        """The staged cycle's transaction committed: hold what it attached."""
        if self._staged is not None:
            self._held, self._staged = self._staged, None
