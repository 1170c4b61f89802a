"""Shared pieces of the benchmarks: the clock, one timed run, a spread, the machine.

CPU time of this process (`time.process_time_ns`) is the clock: time taken by other
jobs on a shared machine is not counted against either side of a comparison.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

CLOCK = time.process_time_ns


def timed(run: Callable[[], Any]) -> tuple[int, Any]:
    """CPU nanoseconds taken by `run()` (collector cleared before, off during), and its
    result."""
    gc.collect()
    gc.disable()
    try:
        start = CLOCK()
        result = run()
        elapsed = CLOCK() - start
    finally:
        gc.enable()
    return elapsed, result


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def machine() -> dict[str, Any]:
    """The facts a reader needs to compare figures between runs."""
    try:
        affinity: int | None = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    try:
        load: tuple[float, float, float] | None = os.getloadavg()
    except OSError:
        load = None
    return {"nproc": affinity or os.cpu_count(), "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "platform": platform.platform(), "processor": platform.processor() or None,
            "loadavg_at_start": load}
