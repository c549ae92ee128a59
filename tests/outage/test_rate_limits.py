"""Moving-window limits in a process's memory, on a clock the test moves."""

from limits import parse

from outage.rate_limits import MovingWindows


class _Clock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def test_hits_within_the_limit_pass_and_the_next_waits_for_the_oldest_to_leave() -> None:
    clock = _Clock()
    windows = MovingWindows(now=clock)
    three = parse("3/minute")
    for second in (0, 10, 20):
        clock.at = 1000.0 + second
        assert windows.hit(three, "phone", "+84901") is None
    clock.at = 1030.0
    assert windows.hit(three, "phone", "+84901") == 30.0


def test_a_refused_hit_is_not_counted() -> None:
    clock = _Clock()
    windows = MovingWindows(now=clock)
    one = parse("1/minute")
    assert windows.hit(one, "phone", "+84901") is None
    clock.at += 59
    assert windows.hit(one, "phone", "+84901") == 1.0
    clock.at += 1
    assert windows.hit(one, "phone", "+84901") is None


def test_keys_and_limits_count_apart() -> None:
    windows = MovingWindows(now=_Clock())
    one = parse("1/minute")
    assert windows.hit(one, "phone", "+84901") is None
    assert windows.hit(one, "phone", "+84902") is None
    assert windows.hit(one, "address", "+84901") is None
    assert windows.hit(parse("2/minute"), "phone", "+84901") is None
    assert windows.hit(one, "phone", "+84901") is not None


def test_a_limit_of_none_refuses_every_hit_for_its_window() -> None:
    assert MovingWindows(now=_Clock()).hit(parse("0/hour"), "phone", "+84901") == 3600.0


def test_keys_idle_for_their_window_are_swept() -> None:
    clock = _Clock()
    windows = MovingWindows(sweep_every=3, now=clock)
    minute = parse("5/minute")
    windows.hit(minute, "phone", "old")
    clock.at += 61
    windows.hit(minute, "phone", "new")
    assert len(windows) == 2
    windows.hit(minute, "phone", "new")
    assert len(windows) == 1
