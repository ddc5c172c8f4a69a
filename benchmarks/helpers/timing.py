"""Latency sampling: warm up, then time each call with perf_counter; report percentiles."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def percentile(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_ms:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_ms)))
    return sorted_ms[min(rank, len(sorted_ms)) - 1]


def measure(fn: Callable[[int], object], *, samples: int, warmup: int) -> dict:
    """Call ``fn(i)`` ``warmup`` times untimed, then ``samples`` times timed (ms)."""
    for i in range(warmup):
        fn(i)
    times: list[float] = []
    for i in range(samples):
        started = time.perf_counter()
        fn(warmup + i)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "samples": samples,
        "warmup": warmup,
        "p50_ms": round(percentile(times, 50), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "p99_ms": round(percentile(times, 99), 2),
        "mean_ms": round(statistics.fmean(times), 2),
        "max_ms": round(times[-1], 2),
    }
