"""The roll-up rules on a small hand-built feeder.

S =B= n0 -L- n1 =F1= a (10 customers)
             |  =F2= b (10 customers)
             +=FT= t =F3= c (10 customers)     FT: a transformer fuse with
                      =F4= d (40 customers)        two LV feeder fuses below
"""

import pytest

from grid_topology.model import DeviceKind
from grid_topology.topology import Link, Network, Topology
from outage.prediction.inference import SERVICE, Evidence, EvidenceKind, Prediction, predict

K = DeviceKind


def _customers(node: str) -> tuple[str, ...]:
    return tuple(f"{node}{i}" for i in range(40 if node == "d" else 10))


@pytest.fixture(scope="module")
def feeder() -> Topology:
    links = [
        Link("B", K.BREAKER, "S", "n0"),
        Link("L", K.LINE, "n0", "n1"),
        Link("F1", K.FUSE, "n1", "a"),
        Link("F2", K.FUSE, "n1", "b"),
        Link("FT", K.FUSE, "n1", "t"),
        Link("F3", K.FUSE, "t", "c"),
        Link("F4", K.FUSE, "t", "d"),
    ]
    return Topology(
        Network(
            links={link.asset_ref: link for link in links},
            sources=frozenset({"S"}),
            accounts_at={node: _customers(node) for node in "abcd"},
        )
    )


def calls(*accounts: str) -> list[Evidence]:
    return [Evidence(a, EvidenceKind.CALL) for a in accounts]


def devices(predictions: list[Prediction]) -> set[str]:
    return {p.device for p in predictions}


def test_no_evidence_predicts_nothing(feeder: Topology) -> None:
    assert predict(feeder, []) == []


def test_two_calls_on_one_lv_feeder_name_its_fuse(feeder: Topology) -> None:
    assert devices(predict(feeder, calls("a1", "a5"))) == {"F1"}


def test_prediction_counts_every_customer_downstream(feeder: Topology) -> None:
    (prediction,) = predict(feeder, calls("a1", "a5"))
    assert prediction.accounts == frozenset(_customers("a"))
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
    assert prediction.accounts == frozenset(_customers("c"))
