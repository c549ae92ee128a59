"""The storm level proposed from the outages' rate and the customers out."""

from outage.storms.proposal import Thresholds, propose

THRESHOLDS = Thresholds(incidents_per_hour=(10, 30, 100), share_out=(0.02, 0.08, 0.20))


def test_a_quiet_hour_proposes_no_storm() -> None:
    assert propose(3, 50, 10_000, THRESHOLDS).level == 0


def test_many_small_outages_propose_a_storm_by_their_rate() -> None:
    assert propose(35, 100, 100_000, THRESHOLDS).level == 2


def test_a_few_big_outages_propose_a_storm_by_the_customers_out() -> None:
    proposal = propose(2, 25_000, 100_000, THRESHOLDS)
    assert proposal.level == 3
    assert proposal.share_out == 0.25


def test_no_customers_is_no_share_out() -> None:
    assert propose(0, 0, 0, THRESHOLDS).share_out == 0.0
