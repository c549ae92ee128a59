"""Choosing meters to ping by the information their answers are expected to give."""

import math

import pytest

from grid_topology.topology import Topology
from outage.prediction.inference import Evidence, EvidenceKind, Explanation, infer
from outage.prediction.ping_choice import PingPolicy, choose_pings, expected_gain, posterior
from tests.outage.prediction.conftest import calls

EVEN = [0.5, 0.5]
ANY = PingPolicy()


def rival(label: str, out: set[str], score: float = 0.0) -> Explanation:
    return Explanation(label, None, frozenset(out), score)


def choose(rivals: list[Explanation], **overrides: object) -> list[str]:
    options: dict = {"pingable": lambda _: True, "asked": (), "pending": (), "spent": 0}
    options.update(overrides)
    return choose_pings(rivals, policy=options.pop("policy", ANY), **options)


def test_a_meter_that_splits_two_even_rivals_gives_one_bit_less_its_loss() -> None:
    assert expected_gain(EVEN, {0b01: 1}, loss=0.0) == pytest.approx(1.0)
    assert expected_gain(EVEN, {0b01: 1}, loss=0.2) == pytest.approx(0.8)


def test_a_second_meter_of_the_same_signature_only_covers_the_first_s_loss() -> None:
    assert expected_gain(EVEN, {0b01: 2}, loss=0.2) == pytest.approx(1 - 0.2**2)


def test_a_meter_out_under_every_rival_tells_nothing() -> None:
    assert expected_gain(EVEN, {0b11: 3}, loss=0.0) == 0.0


def test_posterior_follows_the_scores() -> None:
    low, high = posterior([rival("a", set(), 0.0), rival("b", set(), math.log(3))])
    assert (low, high) == (pytest.approx(0.25), pytest.approx(0.75))


def test_settled_rivals_ask_nothing() -> None:
    assert choose([rival("a", {"x"}, 10.0), rival("b", set(), 0.0)]) == []


def test_the_meter_that_splits_the_rivals_is_asked() -> None:
    rivals = [rival("device", {"x", "y"}), rival("below", {"x"})]
    assert choose(rivals, policy=PingPolicy(loss=0.0)) == ["y"]


def test_loss_makes_it_ask_a_second_meter_of_the_same_signature() -> None:
    rivals = [rival("device", {"x", "y1", "y2"}), rival("below", {"x"})]
    assert choose(rivals, policy=PingPolicy(loss=0.3)) == ["y1", "y2"]
    assert choose(rivals, policy=PingPolicy(loss=0.0)) == ["y1"]


def test_meters_already_waiting_count_as_asked() -> None:
    rivals = [rival("device", {"x", "y1", "y2"}), rival("below", {"x"})]
    policy = PingPolicy(loss=0.3)
    assert choose(rivals, policy=policy, asked={"y1"}, pending={"y1"}) == ["y2"]


def test_the_budget_caps_pings_over_the_incident_s_life() -> None:
    rivals = [rival("device", {"x", "y1", "y2"}), rival("below", {"x"})]
    assert choose(rivals, policy=PingPolicy(loss=0.3, budget=3), spent=2) == ["y1"]
    assert choose(rivals, policy=PingPolicy(loss=0.3, budget=3), spent=3) == []


def test_meters_the_head_end_cannot_reach_are_not_asked() -> None:
    rivals = [rival("device", {"x", "y1", "y2"}), rival("below", {"x"})]
    assert choose(rivals, pingable=lambda account: account != "y1") == ["y2"]


def test_a_lone_caller_s_own_meter_is_asked_first(feeder: Topology) -> None:
    inference = infer(feeder, calls("d1"))
    (prediction,) = inference.predictions
    assert choose(inference.rivals(prediction))[0] == "d1"


def test_answers_settle_a_lone_call_as_its_fuse(feeder: Topology) -> None:
    evidence = [*calls("a1"), Evidence("a2", EvidenceKind.LAST_GASP)]
    evidence += [Evidence("b1", EvidenceKind.LIVE), Evidence("a3", EvidenceKind.LAST_GASP)]
    inference = infer(feeder, evidence)
    (prediction,) = inference.predictions
    assert prediction.device == "F1"
    assert choose(inference.rivals(prediction)) == []
