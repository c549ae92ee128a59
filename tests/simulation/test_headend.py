"""The simulated AMI head-end: it answers each meter pinged as the storm left it, once, and
refuses what its limits do not take."""

import threading

import pytest

from outage.intake.headend import HeadEndLimits, HeadEndRefused, HttpHeadEnd
from outage.simulation.headend import SimulatedHeadEnd

LIMITS = HeadEndLimits(max_batch=3, max_per_minute=4)


class Answers:
    """Collects the answers posted, and says when `expected` have come."""

    def __init__(self, expected: int) -> None:
        self.items: list[dict[str, str]] = []
        self.expected = expected
        self.all_in = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, batch: list[dict[str, str]]) -> None:
        with self._lock:
            self.items.extend(batch)
            if len(self.items) >= self.expected:
                self.all_in.set()


def _headend(answers: Answers, *, loss: float = 0.0) -> SimulatedHeadEnd:
    return SimulatedHeadEnd(
        answers,
        lambda meter: meter == "M-off",
        latency_s=(0.0, 0.05),
        loss=loss,
        max_batch=LIMITS.max_batch,
        max_per_minute=LIMITS.max_per_minute,
    )


def test_each_meter_is_answered_as_the_storm_left_it() -> None:
    answers = Answers(expected=2)
    with _headend(answers) as field:
        HttpHeadEnd(field.url, LIMITS).ping("r-1", ["M-off", "M-on"])
        assert answers.all_in.wait(timeout=30)
    states = {a["meter_id"]: (a["request_id"], a["state"]) for a in answers.items}
    assert states == {"M-off": ("r-1", "off"), "M-on": ("r-1", "on")}


def test_a_request_sent_again_is_answered_once() -> None:
    answers = Answers(expected=1)
    with _headend(answers) as field:
        for _ in range(2):
            HttpHeadEnd(field.url, LIMITS).ping("r-1", ["M-on"])
        assert answers.all_in.wait(timeout=30)
        assert len(field.requests) == 1


def test_a_request_over_the_batch_size_is_refused() -> None:
    with _headend(Answers(expected=0)) as field, pytest.raises(HeadEndRefused, match="413"):
        HttpHeadEnd(field.url, LIMITS).ping("r-1", ["M-1", "M-2", "M-3", "M-4"])


def test_meters_over_the_minutes_rate_are_refused() -> None:
    with _headend(Answers(expected=0)) as field:
        HttpHeadEnd(field.url, LIMITS).ping("r-1", ["M-1", "M-2", "M-3"])
        with pytest.raises(HeadEndRefused, match="429"):
            HttpHeadEnd(field.url, LIMITS).ping("r-2", ["M-4", "M-5"])


def test_lost_answers_never_come() -> None:
    with _headend(Answers(expected=0), loss=1.0) as field:
        HttpHeadEnd(field.url, LIMITS).ping("r-1", ["M-on"])
        assert field.planned == 0


def test_a_request_without_the_headends_token_is_refused() -> None:
    with SimulatedHeadEnd(Answers(expected=0), token="s3cret") as field:
        with pytest.raises(HeadEndRefused, match="401"):
            HttpHeadEnd(field.url, LIMITS).ping("r-1", ["M-on"])
        HttpHeadEnd(field.url, LIMITS, token="s3cret").ping("r-2", ["M-on"])
        assert [r["request_id"] for r in field.requests] == ["r-2"]
