"""From a fresh set of predictions to changes of the incidents already open: pure rules.

Incidents keep their identity while the evidence moves: a prediction that overlaps one
open incident updates it (moving its device up or down the network when the engine
still owns it); one that overlaps several merges them into the oldest; one that overlaps
none opens a new incident. An engine-owned incident no prediction overlaps any more is
cancelled as a false alarm.

The engine owns an incident while it is `predicted` and no dispatcher placed it. Incidents
a person or SCADA confirmed, and those a dispatcher moved, split, merged or created, are
never moved, merged away or cancelled by the engine, only given more evidence.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from outage.incidents.lifecycle import IncidentStatus
from outage.prediction.inference import Prediction


@dataclass(frozen=True)
class OpenIncident:
    """What reconciliation needs to know of an active incident."""

    id: int
    device: str | None
    """asset_ref, or the account of a single-service outage."""
    accounts: frozenset[str]
    status: IncidentStatus
    placed_by: str | None = None
    """The dispatcher who placed it by hand, if one did."""

    @property
    def engine_owned(self) -> bool:
        return self.status is IncidentStatus.PREDICTED and self.placed_by is None


@dataclass(frozen=True)
class Open:
    prediction: Prediction


@dataclass(frozen=True)
class Update:
    incident_id: int
    prediction: Prediction
    move: bool
    """True when the incident's device changes to the prediction's."""


@dataclass(frozen=True)
class Merge:
    keep_id: int
    merged_id: int


@dataclass(frozen=True)
class Cancel:
    incident_id: int


Change = Open | Update | Merge | Cancel


def reconcile(incidents: Sequence[OpenIncident], predictions: Sequence[Prediction]) -> list[Change]:
    """The changes that make the open incidents tell what the predictions say.

    `incidents` oldest first; the oldest of several overlapping incidents survives a merge,
    so customers keep the ticket they were first told about.
    """
    changes: list[Change] = []
    claimed: set[int] = set()
    holding = _holding(incidents)
    for prediction in predictions:
        overlapping = [
            incidents[at]
            for at in sorted({at for a in prediction.accounts for at in holding.get(a, ())})
            if incidents[at].id not in claimed
        ]
        if not overlapping:
            changes.append(Open(prediction))
            continue
        keep, *others = overlapping
        claimed.add(keep.id)
        for other in others:
            if other.engine_owned:
                changes.append(Merge(keep.id, other.id))
                claimed.add(other.id)
        move = keep.engine_owned and keep.device != prediction.device
        changes.append(Update(keep.id, prediction, move=move))
    changes.extend(Cancel(i.id) for i in incidents if i.id not in claimed and i.engine_owned)
    return changes


def _holding(incidents: Sequence[OpenIncident]) -> dict[str, list[int]]:
    """Account -> the places in `incidents` of those holding it: a storm's hundreds of
    predictions each compared with hundreds of incidents, customer sets intersected pair
    by pair, took a fifth of the engine's cycle."""
    holding: dict[str, list[int]] = {}
    for at, incident in enumerate(incidents):
        for account in incident.accounts:
            holding.setdefault(account, []).append(at)
    return holding
