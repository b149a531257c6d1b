"""Reading latency histograms (µs, ``orchestrator.runner.histogram.Histogram``) in milliseconds:
many percentiles in one pass over the buckets, for SLOs, OMB results and the percentile spectrum."""

from __future__ import annotations

import numpy as np

from orchestrator.runner.histogram import Histogram, bucket_bounds

# the x-axis of a percentile spectrum: 0 %, 90 %, 99 %, … 99.9999 % as "nines"
SPECTRUM = [0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 99.9999]


def spectrum_for(count: int) -> list[float]:
    """The spectrum's percentiles that ``count`` samples can tell from the maximum: a percentile q
    needs at least one sample above it (count x (1 - q) >= 1), so 50,000 samples stop at 99.995."""
    return [q for q in SPECTRUM if count * (1.0 - q / 100.0) >= 1.0 - 1e-9]


def percentiles_ms(h: Histogram, qs: list[float]) -> list[float]:
    """Values at percentiles ``qs`` (0..100, any order) in ms, by the rank rule of
    ``Histogram.percentile`` (the top of the bucket holding the rank, within min and max), all in
    one vectorised pass."""
    if not h.count:
        return [0.0] * len(qs)
    cumulative = np.cumsum(np.asarray(h.counts, dtype=np.int64))
    ranks = np.maximum(1, np.ceil(h.count * np.asarray(qs, dtype=float) / 100.0))
    indices = np.minimum(np.searchsorted(cumulative, ranks), len(cumulative) - 1)
    tops = np.array([bucket_bounds(int(i))[1] for i in indices], dtype=float)
    return list(np.clip(tops, h.min, h.max) / 1000.0)


def stat_ms(h: Histogram, stat: str) -> float:
    """p50 … p999, max or mean in milliseconds."""
    if stat == "max":
        return h.max / 1000.0
    if stat == "mean":
        return h.mean / 1000.0
    return percentiles_ms(h, [float(stat[1:]) / (10.0 if stat == "p999" else 1.0)])[0]
