"""Reference-count and memory checks: long loops over every public operation show no growth.

Each case warms an operation up, then runs it in rounds and measures what is left behind after
each round: Python allocations (tracemalloc, which also sees PyMem_RawMalloc), the process's
resident set (RSS, for plain malloc), and the reference counts of the objects the operation was
given. A leak of one reference or a few bytes per call shows up as steady growth over the rounds.

A debug build (`RS2FAST_DEBUG=1 python setup.py build_ext --inplace`) also keeps live-object
counters in the extensions; `check_debug_counters()` asserts they are all zero once nothing
refers to rs2fast objects any more. Every module of the reliability suite ends with it; in a
normal build it skips, saying that it needs RS2FAST_DEBUG=1.
"""
from __future__ import annotations

import gc
import importlib

import pytest

_EXTENSIONS = ("rs2fast._chunk", "rs2fast._heap", "rs2fast._reorder")


def debug_counters() -> dict:
    """{module: counters} of every extension built with debug counters (empty in a normal build)."""
    found = {}
    for name in _EXTENSIONS:
        module = importlib.import_module(name)
        read = getattr(module, "debug_counters", None)
        if read is None:
            continue
        counters = read()
        if counters.get("enabled"):
            found[name] = counters
    return found


def check_debug_counters() -> None:
    """Assert that a debug build reports no live slots, views or buffer owners; skip otherwise."""
    for _ in range(3):
        gc.collect()
    found = debug_counters()
    if not found:
        pytest.skip("needs a debug build: RS2FAST_DEBUG=1 python setup.py build_ext --inplace")
    live = {f"{module}.{key}": value for module, counters in found.items()
            for key, value in counters.items()
            if key.startswith("live") and isinstance(value, int) and value != 0}
    assert not live, f"objects still alive at the end of the module: {live}"
