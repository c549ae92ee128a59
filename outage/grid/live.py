"""The oriented network the API traces on, held in memory and rebuilt only when it changes."""

from threading import Lock

from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.service import load_network


class LiveTopology:
    """Orientation costs about a second on a city-sized grid, so it is built once and shared."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._topology: Topology | None = None
        self._counts: dict[str, int] = {}

    def get(self, session: Session) -> Topology:
        with self._lock:
            if self._topology is None:
                self._topology = Topology(load_network(session))
                self._counts = self._topology.customer_counts()
            return self._topology

    def customers_downstream(self, session: Session, asset_ref: str) -> int:
        self.get(session)
        return self._counts.get(asset_ref, 0)

    def invalidate(self) -> None:
        """Call after an import or a switching change."""
        with self._lock:
            self._topology = None
            self._counts = {}
