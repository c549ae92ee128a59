"""The roll-up rules on the small hand-built feeder of conftest.py."""

import math

from grid_topology.topology import Topology
from outage.prediction.inference import (
    SERVICE,
    Evidence,
    EvidenceKind,
    Prediction,
    infer,
    predict,
)
from tests.outage.prediction.conftest import calls, customers


def devices(predictions: list[Prediction]) -> set[str]:
    return {p.device for p in predictions}


def test_no_evidence_predicts_nothing(feeder: Topology) -> None:
    assert predict(feeder, []) == []


def test_two_calls_on_one_lv_feeder_name_its_fuse(feeder: Topology) -> None:
    assert devices(predict(feeder, calls("a1", "a5"))) == {"F1"}


def test_prediction_counts_every_customer_downstream(feeder: Topology) -> None:
    (prediction,) = predict(feeder, calls("a1", "a5"))
    assert prediction.accounts == frozenset(customers("a"))
    assert prediction.evidence == {"a1", "a5"}


def test_calls_under_both_lv_feeders_roll_up_to_the_transformer_fuse(feeder: Topology) -> None:
    assert devices(predict(feeder, calls("c1", "c2", "c3", "d1", "d2", "d3"))) == {"FT"}


def test_calls_from_every_branch_roll_up_to_the_breaker(feeder: Topology) -> None:
    evidence = calls(*(f"{n}{i}" for n in "abcd" for i in (1, 4, 7)))
    assert devices(predict(feeder, evidence)) == {"B"}


def test_separate_faults_on_two_branches_stay_separate(feeder: Topology) -> None:
    evidence = calls("a1", "a2", "a3", "c1", "c2", "c3")
    assert devices(predict(feeder, evidence)) == {"F1", "F3"}


def test_many_silent_customers_keep_a_lone_call_a_single_service(feeder: Topology) -> None:
    evidence = calls("a1", "a2", "a3", "d9")
    predictions = predict(feeder, evidence)
    assert devices(predictions) == {"F1", "d9"}
    assert next(p for p in predictions if p.device == "d9").kind == SERVICE


def test_meter_saying_live_moves_the_prediction_downstream(feeder: Topology) -> None:
    evidence = calls("c1", "c2", "c3", "d1", "d2", "d3")
    evidence += [Evidence(f"c{i}", EvidenceKind.LIVE) for i in (5, 6)]
    predictions = predict(feeder, evidence)
    assert devices(predictions) == {"F4", "c1", "c2", "c3"}
    assert {p.kind for p in predictions if p.device != "F4"} == {SERVICE}


def test_last_gasps_are_strong_evidence(feeder: Topology) -> None:
    evidence = [Evidence(f"c{i}", EvidenceKind.LAST_GASP) for i in range(6)]
    evidence += [Evidence(f"d{i}", EvidenceKind.LAST_GASP) for i in range(6)]
    (prediction,) = predict(feeder, evidence)
    assert prediction.device == "FT"
    assert prediction.confidence > 0.9


def test_a_confirmed_device_explains_everything_below_it(feeder: Topology) -> None:
    (prediction,) = predict(feeder, calls("a1"), known_out=["B"])
    assert prediction.device == "B"
    assert prediction.confidence == 1.0


def test_confidence_grows_with_evidence(feeder: Topology) -> None:
    few = predict(feeder, calls("a1", "a2"))[0].confidence
    many = predict(feeder, calls(*(f"a{i}" for i in range(6))))[0].confidence
    assert 0 < few < many <= 1


def test_a_confirmed_device_without_calls_is_still_out(feeder: Topology) -> None:
    (prediction,) = predict(feeder, [], known_out=["F3"])
    assert prediction.device == "F3"
    assert prediction.accounts == frozenset(customers("c"))


def test_a_device_is_weighed_against_the_faults_below_it_and_its_parent(feeder: Topology) -> None:
    inference = infer(feeder, calls("c1", "c2", "c3", "d1", "d2"))
    (prediction,) = inference.predictions
    rivals = {r.label: r for r in inference.rivals(prediction)}
    assert rivals.keys() == {"device", "below", "parent"}
    assert rivals["device"].device == "FT" and rivals["parent"].device == "B"
    assert rivals["device"].score > max(rivals["below"].score, rivals["parent"].score)
    assert rivals["parent"].out == frozenset(feeder.downstream("B").accounts)


def test_a_device_s_siblings_stay_out_in_its_rivals_but_the_parent(feeder: Topology) -> None:
    inference = infer(feeder, calls("a1", "a2", "a3", "b1", "b2", "b3"))
    f1 = next(p for p in inference.predictions if p.device == "F1")
    rivals = {r.label: r for r in inference.rivals(f1)}
    assert set(customers("b")) <= rivals["device"].out
    assert set(customers("b")) <= rivals["below"].out
    assert not set(customers("a")) <= rivals["below"].out


def test_a_lone_caller_is_weighed_at_their_nearest_device(feeder: Topology) -> None:
    inference = infer(feeder, calls("d1"))
    (prediction,) = inference.predictions
    assert prediction.kind == SERVICE
    rivals = {r.label: r for r in inference.rivals(prediction)}
    assert rivals.keys() == {"device", "service", "inside", "parent"}
    assert rivals["device"].device == "F4"
    assert rivals["service"].out == {"d1"} and rivals["inside"].out == frozenset()


def test_a_device_scada_opened_has_no_rivals(feeder: Topology) -> None:
    inference = infer(feeder, calls("a1"), known_out=["F1"])
    (prediction,) = inference.predictions
    assert inference.rivals(prediction) == []


def test_a_sibling_known_out_leaves_the_parent_out_of_the_rivals(feeder: Topology) -> None:
    inference = infer(feeder, calls("c1", "c2", "c3", "c4", "c5", "c6"), known_out=["F4"])
    f3 = next(p for p in inference.predictions if p.device == "F3")
    rivals = inference.rivals(f3)
    assert {r.label for r in rivals} == {"device", "below"}
    assert all(math.isfinite(r.score) for r in rivals)
