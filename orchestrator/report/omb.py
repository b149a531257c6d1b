"""results/omb.json: the run as an OpenMessaging Benchmark ``TestResult``, so OMB's chart scripts
and published OMB results can sit next to ours.

As OMB does, the series are sampled every 10 seconds over the measured part of the run (warm-up
phases excluded), and the ``aggregated*`` values cover that whole part. Runs longer than
``MAX_PERIODS`` × 10 s use a longer period (a multiple of 10 s) so the file keeps about
``MAX_PERIODS`` points per series. Units follow OMB: rates in
msg/s, publish and end-to-end latencies in ms, publish delay in µs (whole numbers); a period
without samples reports 0, as OMB's empty histograms do. ``backlog`` is messages produced minus
messages consumed so far.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

from orchestrator.analyze.latency import percentiles_ms
from orchestrator.analyze.slo import Measured, merged_histogram
from orchestrator.analyze.window import Window
from orchestrator.collect.timeline import Timeline
from orchestrator.plan.models import ConsumerWorkload, Plan, ProducerWorkload
from orchestrator.runner.histogram import Histogram

PERIOD_S = 10
MAX_PERIODS = 1000
_SUFFIXES = (("50pct", 50.0), ("75pct", 75.0), ("95pct", 95.0), ("99pct", 99.0), ("999pct", 99.9),
             ("9999pct", 99.99), ("99999pct", 99.999))
# OMB fills its quantile maps from HdrHistogram's percentile iteration with 100 ticks per half
# distance to 100 % (``percentiles(100)``); the same levels, to where the data stops
TICKS_PER_HALF_DISTANCE = 100
# OMB field prefix, our histogram kind, scale from ms, whole numbers
_KINDS = (("publishLatency", "publish_latency", 1.0, False), ("publishDelayLatency", "publish_delay", 1000.0, True),
          ("endToEndLatency", "e2e_latency", 1.0, False))


def quantile_levels(count: int, ticks: int = TICKS_PER_HALF_DISTANCE) -> list[float]:
    """0 %, then ``ticks`` levels for each halving of the distance to 100 %, up to the first level
    that the ``count`` samples resolve (one sample is 100/count %), then 100 %."""
    if count <= 0:
        return []
    last, levels, level = 100.0 * (count - 1) / count, [], 0.0
    while level < last:
        levels.append(level)
        halvings = math.floor(math.log2(100.0 / (100.0 - level))) + 1
        level += 100.0 / (ticks * 2 ** halvings)
    return levels + [100.0]


def period_s(window: Window) -> int:
    return PERIOD_S * max(1, -(-int(window.seconds) // (PERIOD_S * MAX_PERIODS)))


def _periods(window: Window) -> Iterator[tuple[float, float]]:
    step = period_s(window)
    for start, end in window.spans:
        t = start
        while t + step <= end:
            yield t, t + step
            t += step


def _total(timeline: Timeline, metric: str, start: float, end: float) -> float:
    lo, hi = max(0, int(start) - timeline.start), max(0, int(end) - timeline.start)
    return sum(v for s in timeline.select(metric).values() for v in s[lo:hi] if v is not None)


def _latency_fields(prefix: str, h: Histogram | None, scale: float, whole: bool) -> dict[str, float]:
    h = h or Histogram()
    values = percentiles_ms(h, [q for _, q in _SUFFIXES])
    fields = {f"{prefix}{suffix}": v * scale for (suffix, _), v in zip(_SUFFIXES, values)}
    fields[f"{prefix}Avg"] = h.mean / 1000.0 * scale
    fields[f"{prefix}Max"] = h.max / 1000.0 * scale
    return {k: (round(v) if whole and not k.endswith("Avg") else v) for k, v in fields.items()}


def omb_result(plan: Plan, measured: Measured, window: Window) -> dict[str, object]:
    producers = [w for w in plan.workloads if isinstance(w, ProducerWorkload)]
    consumers = [w for w in plan.workloads if isinstance(w, ConsumerWorkload)]
    sizes = [w.message.size_distribution() for w in producers]
    result: dict[str, object] = {
        "workload": plan.metadata.name,
        "driver": "Kafka (orchestrate)",
        "messageSize": next((getattr(s, "size", getattr(s, "mean", 0)) for s in sizes if s is not None), 0),
        "topics": len(plan.topics),
        "partitions": sum(t.partitions for t in plan.topics),
        "producersPerTopic": sum(w.instances for w in producers) // max(1, len({w.topic for w in producers})),
        "consumersPerTopic": sum(w.instances for w in consumers) // max(1, len({w.topic for w in consumers})),
    }
    series: dict[str, list[float]] = {k: [] for k in ("publishRate", "publishErrorRate", "consumeRate", "backlog")}
    tl = measured.timeline
    first = window.spans[0][0] if window.spans else float(tl.start)
    backlog = _total(tl, "produce.rate", tl.start, first) - _total(tl, "consume.rate", tl.start, first)
    step = period_s(window)
    for start, end in _periods(window):
        produced, consumed = _total(tl, "produce.rate", start, end), _total(tl, "consume.rate", start, end)
        backlog += produced - consumed
        series["publishRate"].append(produced / step)
        series["consumeRate"].append(consumed / step)
        series["publishErrorRate"].append(_total(tl, "produce.errors", start, end) / step)
        series["backlog"].append(max(0, round(backlog)))
        for prefix, kind, scale, whole in _KINDS:
            for key, value in _latency_fields(prefix, measured.histogram(kind, None, start, end), scale, whole).items():
                series.setdefault(key, []).append(value)
    result.update(series)
    for prefix, kind, scale, whole in _KINDS:
        merged = merged_histogram(measured, kind, None, window) or Histogram()
        aggregated = _latency_fields(prefix, merged, scale, whole)
        result.update({f"aggregated{k[0].upper()}{k[1:]}": v for k, v in aggregated.items()})
        levels = quantile_levels(merged.count)
        quantiles = percentiles_ms(merged, levels)
        result[f"aggregated{prefix[0].upper()}{prefix[1:]}Quantiles"] = {
            f"{q!r}": (round(v * scale) if whole else v * scale) for q, v in zip(levels, quantiles)}
    return result


def write_omb(plan: Plan, measured: Measured, window: Window, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(omb_result(plan, measured, window), indent=1), encoding="utf-8")
