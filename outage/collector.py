"""Pausing Python's cyclic garbage collector while millions of objects are made.

Each pass of the collector walks every object the process holds, and making objects sets
passes off: loading a grid of millions of devices set off enough of them to take three
times as long as the load itself, and a storm's cycle ran twice as slow. Reference counting
frees what such work leaves behind as it goes; what cycles it leaves (its own, or another
thread's meanwhile, as the collector is the process's) are collected by the first pass
after it.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
