"""Reading latency histograms (µs, ``orchestrator.runner.histogram.Histogram``) in milliseconds:
many percentiles in one pass over the buckets, for SLOs, OMB results and the percentile spectrum."""

from __future__ import annotations

from orchestrator.runner.histogram import Histogram, bucket_bounds

# the x-axis of a percentile spectrum: 0 %, 90 %, 99 %, … 99.9999 % as "nines"
SPECTRUM = [0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 99.9999]


def percentiles_ms(h: Histogram, qs: list[float]) -> list[float]:
    """Values at percentiles ``qs`` (0..100, any order) in ms, with the same rank rule as
    ``Histogram.percentile`` but in one pass."""
    if not h.count:
        return [0.0] * len(qs)
    order = sorted(range(len(qs)), key=lambda i: qs[i])
    ranks = [max(1, -(-h.count * qs[i] // 100)) for i in order]
    out = [0.0] * len(qs)
    k, seen = 0, 0
    for index, n in enumerate(h.counts):
        if not n:
            continue
        seen += n
        value = min(max(bucket_bounds(index)[1], h.min), h.max) / 1000.0
        while k < len(order) and seen >= ranks[k]:
            out[order[k]] = value
            k += 1
        if k == len(order):
            break
    for i in order[k:]:
        out[i] = h.max / 1000.0
    return out


def stat_ms(h: Histogram, stat: str) -> float:
    """p50 … p999, max or mean in milliseconds."""
    if stat == "max":
        return h.max / 1000.0
    if stat == "mean":
        return h.mean / 1000.0
    return percentiles_ms(h, [float(stat[1:]) / (10.0 if stat == "p999" else 1.0)])[0]
