"""The public map's cache: one computation per time-to-live, however many ask at once."""

import threading
import time

from maps.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_served_until_it_expires() -> None:
    clock = Clock()
    cache = TtlCache(10, clock=clock)
    computed: list[int] = []

    def compute() -> bytes:
        computed.append(1)
        return f"v{len(computed)}".encode()

    assert cache.fresh() is None
    assert cache.get(compute).body == b"v1"
    clock.now = 9.9
    assert cache.get(compute).body == b"v1"
    assert cache.fresh() is not None
    clock.now = 10.0
    assert cache.fresh() is None
    assert cache.get(compute).body == b"v2"
    assert len(computed) == 2


def test_the_etag_follows_the_content() -> None:
    clock = Clock()
    cache = TtlCache(1, clock=clock)
    first = cache.get(lambda: b"same")
    clock.now = 5
    second = cache.get(lambda: b"same")
    clock.now = 10
    third = cache.get(lambda: b"other")
    assert first.etag == second.etag != third.etag


def test_callers_arriving_together_share_one_computation() -> None:
    cache = TtlCache(60)
    calls: list[int] = []
    start = threading.Barrier(16)

    def compute() -> bytes:
        calls.append(1)
        time.sleep(0.2)  # a slow query: the others arrive meanwhile
        return b"data"

    answers: list[bytes] = []

    def ask() -> None:
        start.wait()
        answers.append(cache.get(compute).body)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [b"data"] * 16
    assert len(calls) == 1


def test_a_value_computed_for_another_key_is_stale() -> None:
    cache = TtlCache(600, clock=Clock())
    assert cache.get(lambda: b"version 1", key=1).body == b"version 1"
    assert cache.get(lambda: b"unused", key=1).body == b"version 1"
    assert cache.fresh(key=2) is None
    assert cache.get(lambda: b"version 2", key=2).body == b"version 2"
