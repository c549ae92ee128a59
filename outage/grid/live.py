"""The oriented network a process works on, following the live switching state.

A process holds one `LiveTopology` a database (`shared_topology`). Each `get` compares the
network's versions in the database (one small read) with those of the copy it holds: a
switching change is applied to the copy incrementally (`Topology.switched`), and so is an
import that changed the network, from the rows it logged as changed (`Topology.edited`,
`outage.grid.structure`); only when those are not at hand (a first or bulk import, a copy
too far behind) is the network loaded again. So every request, engine cycle and worker
pass sees the network as it is when it starts, without a restart.

It keeps two views. `get` is the network as operated: the live switching state, except
that a protective device opened by protection counts as closed, since an outage's
customers are those its device fed (the engine's inference, incident counts and who is
told). `energized` is the network exactly as it stands, for what has supply now.

An engine working some regions holds a copy of their network alone (a `Scope`): it
follows the switching of its own devices, and loads its regions again after an import.
"""

from dataclasses import dataclass
from threading import Lock

from sqlalchemy import URL, make_url
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.regions import Scope
from outage.grid.service import load_network
from outage.grid.structure import edits_since
from outage.grid.switching import Versions, changes_since, tripped_devices, versions


@dataclass(frozen=True)
class Views:
    """Both views of one version of the network, and that version."""

    versions: Versions
    operated: Topology
    energized: Topology


class LiveTopology:
    """Orientation costs seconds on a large grid, so it is built once and then followed."""

    def __init__(self, scope: Scope | None = None) -> None:
        self._lock = Lock()
        self._views: Views | None = None
        self._scope = scope

    def get(self, session: Session) -> Topology:
        """The network as operated (protection's trips count as closed), as of now."""
        return self._current(session).operated

    def energized(self, session: Session) -> Topology:
        """The network exactly as switched now: what has supply."""
        return self._current(session).energized

    def views(self, session: Session) -> Views:
        """Both views and their versions at once: what was computed on them can be told
        apart from a network that changed since."""
        return self._current(session)

    @property
    def version(self) -> Versions | None:
        """The versions of the copy held, None before the first `get`."""
        views = self._views
        return views.versions if views else None

    def invalidate(self) -> None:
        """Forget the copy: the next `get` loads the network again."""
        with self._lock:
            self._views = None

    def _current(self, session: Session) -> Views:
        views = self._views
        if views is not None and views.versions == versions(session):
            return views
        with self._lock:
            # Read again under the lock: another thread may have moved the copy on while
            # this one waited, past the versions it read before.
            now = versions(session)
            views = self._views
            if views is None:
                views = self._load(session)
            elif views.versions.structure != now.structure:
                views = self._restructure(session, views, now.structure)
            if views.versions.switch < now.switch:
                views = self._follow(session, views)
            self._views = views
            return views

    def _load(self, session: Session) -> Views:
        held = versions(session)
        energized = Topology(load_network(session, self._scope))
        links = energized.network.links
        tripped = [ref for ref in tripped_devices(session) if ref in links]
        operated = energized.switched(dict.fromkeys(tripped, False))
        return Views(held, operated, energized)

    def _restructure(self, session: Session, views: Views, structure: int) -> Views:
        """Apply the imports since the copy's structure version (rows read as they are now,
        live states included; switching changes read again after that are harmless)."""
        edits = edits_since(session, views.versions.structure, structure)
        if edits is None or self._scope is not None:  # an import may move a scope's borders
            return self._load(session)
        return Views(
            Versions(switch=views.versions.switch, structure=structure),
            views.operated.edited(edits.operated),
            views.energized.edited(edits.energized),
        )

    def _follow(self, session: Session, views: Views) -> Views:
        changes = changes_since(session, views.versions.switch)
        if changes.versions.structure != views.versions.structure:
            return self._load(session)
        links = views.energized.network.links
        states = [s for s in changes.states if s.asset_ref in links]  # a scope's own
        energized = views.energized.switched({s.asset_ref: s.is_open for s in states})
        operated = views.operated.switched(
            {s.asset_ref: s.is_open and not s.tripped for s in states}
        )
        return Views(changes.versions, operated, energized)


_SHARED: dict[str, LiveTopology] = {}
_SHARED_LOCK = Lock()


def shared_topology(database_url: str | URL) -> LiveTopology:
    """The process's one copy of that database's network: the API, the engine and the
    restorations' verification follow it together instead of each loading its own."""
    key = make_url(database_url).render_as_string(hide_password=False)
    with _SHARED_LOCK:
        return _SHARED.setdefault(key, LiveTopology())
