"""The advisory-lock registry: keys distinct and of the sizes PostgreSQL takes."""

from outage.locks import GRID_IMPORT, PLANNER, LockSpace

INT4 = range(-(2**31), 2**31)
INT8 = range(-(2**63), 2**63)


def test_two_key_lock_spaces_are_distinct_int4_keys() -> None:
    keys = [int(space) for space in LockSpace.__members__.values()]
    assert len(set(keys)) == len(keys)
    assert all(key in INT4 for key in keys)


def test_one_key_locks_are_distinct_int8_keys() -> None:
    assert PLANNER != GRID_IMPORT
    assert PLANNER in INT8 and GRID_IMPORT in INT8
