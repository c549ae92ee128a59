"""How fresh predictions change the incidents already open."""

from outage.incidents.lifecycle import IncidentStatus
from outage.prediction.inference import Prediction
from outage.prediction.reconcile import Cancel, Merge, Open, OpenIncident, Update, reconcile

PREDICTED = IncidentStatus.PREDICTED


def prediction(device: str, *accounts: str) -> Prediction:
    return Prediction(device, "fuse", frozenset(accounts), frozenset(accounts[:1]), 0.9)


def incident(id_: int, device: str, *accounts: str, status: IncidentStatus = PREDICTED):
    return OpenIncident(id_, device, frozenset(accounts), status)


def test_a_prediction_with_no_incident_opens_one() -> None:
    new = prediction("F1", "a", "b")
    assert reconcile([], [new]) == [Open(new)]


def test_same_device_updates_without_moving() -> None:
    same = prediction("F1", "a", "b")
    assert reconcile([incident(1, "F1", "a", "b")], [same]) == [Update(1, same, move=False)]


def test_rolling_up_moves_the_incident_upstream() -> None:
    wider = prediction("FT", "a", "b", "c", "d")
    assert reconcile([incident(1, "F1", "a", "b")], [wider]) == [Update(1, wider, move=True)]


def test_two_incidents_rolling_up_to_one_device_merge_into_the_oldest() -> None:
    wider = prediction("FT", "a", "b", "c", "d")
    changes = reconcile([incident(1, "F1", "a", "b"), incident(2, "F2", "c", "d")], [wider])
    assert changes == [Merge(1, 2), Update(1, wider, move=True)]


def test_live_meters_move_the_incident_downstream() -> None:
    narrower = prediction("F2", "c", "d")
    changes = reconcile([incident(1, "FT", "a", "b", "c", "d")], [narrower])
    assert changes == [Update(1, narrower, move=True)]


def test_unsupported_predicted_incident_is_cancelled() -> None:
    assert reconcile([incident(1, "F1", "a")], []) == [Cancel(1)]


def test_confirmed_incident_is_neither_moved_nor_cancelled() -> None:
    confirmed = incident(1, "F1", "a", "b", status=IncidentStatus.CONFIRMED)
    wider = prediction("FT", "a", "b", "c")
    assert reconcile([confirmed], [wider]) == [Update(1, wider, move=False)]
    assert reconcile([confirmed], []) == []


def test_split_keeps_the_old_incident_for_one_part_and_opens_another() -> None:
    left, right = prediction("F1", "a", "b"), prediction("F2", "c", "d")
    changes = reconcile([incident(1, "FT", "a", "b", "c", "d")], [left, right])
    assert changes == [Update(1, left, move=True), Open(right)]
