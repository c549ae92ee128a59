"""The memo of costly public answers: one computation per key and time-to-live."""

from itertools import count

from outage.web.memo import Memo


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_computed_once_while_fresh_and_again_once_stale() -> None:
    clock, runs = _Clock(), count(1)
    memo: Memo[int] = Memo(ttl_s=10, size=4, clock=clock)
    assert [memo.get("a", lambda: next(runs)) for _ in range(3)] == [1, 1, 1]
    clock.now = 10.0
    assert memo.get("a", lambda: next(runs)) == 2


def test_each_key_has_its_own_value() -> None:
    memo: Memo[str] = Memo(ttl_s=10, size=4, clock=_Clock())
    assert (memo.get(1, lambda: "one"), memo.get(2, lambda: "two")) == ("one", "two")
    assert memo.get(1, lambda: "other") == "one"


def test_beyond_its_size_the_oldest_key_is_dropped() -> None:
    memo: Memo[str] = Memo(ttl_s=10, size=2, clock=_Clock())
    for key in ("a", "b", "c"):
        memo.get(key, lambda key=key: key)
    assert memo.get("a", lambda: "again") == "again"
    assert memo.get("c", lambda: "again") == "c"
