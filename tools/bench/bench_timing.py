"""Median wall time of repeated calls, as the C# bench's Timing.MedianMilliseconds."""

import statistics
import time


def median_ms(fn, runs, warmup=3):
    """Warm-up calls, then the median of `runs` timed calls (as Timing.MedianMilliseconds)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)
