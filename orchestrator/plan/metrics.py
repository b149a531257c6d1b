"""What each SLO metric means: its base unit, how a window reduces it to one number, how workloads
combine, and how a threshold written with a unit ('20ms', '5k/s', '80%', '1GiB') converts to it.

Base units: milliseconds for latencies, messages per second for rates, MB/s (10^6 bytes) for
throughput, percent for utilisation and error rates, bytes for sizes, plain counts otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from orchestrator.errors import InputError
from orchestrator.plan.sources import CATALOGUE
from orchestrator.plan.units import parse_duration, parse_rate, parse_size

# latency: merged histogram over the window; rate: total / window seconds; total: sum;
# peak: max over the window; trough: min over the window (idle shares); mean: mean of the samples
# (sampled rates); ratio: errors / (messages + errors) in percent; summary: workload summaries;
# slope: the least-squares slope of the per-second series over the window, per second
Reduce = Literal["latency", "rate", "total", "peak", "trough", "mean", "ratio", "summary", "slope"]
Unit = Literal["ms", "msg/s", "MB/s", "%", "B", "count"]


@dataclass(frozen=True)
class MetricSpec:
    metric: str
    unit: Unit
    reduce: Reduce
    latency_kind: str | None = None  # histogram kind for latency metrics
    stat: str | None = None  # p50 … max, mean for latency metrics
    counts_metric: str | None = None  # for ratios: the success-count rate series
    combine: Literal["sum", "max", "min"] | None = None  # across series each second; None: by ``reduce``


_LATENCY = re.compile(r"^(publish_latency|publish_delay|corrected_latency|e2e_latency)\.(p50|p90|p95|p99|p999|max|mean)$")
_JMETER_ELAPSED = re.compile(r"^jmeter\.elapsed\.(p50|p90|p95|p99|max|mean)$")
_FIXED: dict[str, tuple[Unit, Reduce]] = {
    "rate": ("msg/s", "rate"), "throughput_mb": ("MB/s", "rate"), "errors": ("count", "total"),
    "lost": ("count", "summary"), "duplicated": ("count", "summary"), "out_of_order": ("count", "summary"),
    "position_lag": ("count", "peak"), "committed_lag": ("count", "peak"), "lag_growth": ("msg/s", "slope"), "util": ("%", "peak"), "await": ("ms", "peak"), "aqu_sz": ("count", "peak"),
    "w_per_s": ("count", "peak"), "r_per_s": ("count", "peak"), "wkb_per_s": ("count", "peak"),
    "rkb_per_s": ("count", "peak"), "under_replicated": ("count", "peak"),
    "offline_partitions": ("count", "peak"), "log_dir_bytes": ("B", "peak"),
}


def spec(metric: str) -> MetricSpec:
    """The spec of a metric the plan language accepts (``METRIC_PATTERN``)."""
    if m := _LATENCY.match(metric):
        return MetricSpec(metric, "ms", "latency", latency_kind=m.group(1), stat=m.group(2))
    if m := _JMETER_ELAPSED.match(metric):
        return MetricSpec(metric, "ms", "latency", latency_kind="elapsed", stat=m.group(1))
    if (source := CATALOGUE.get(metric)) is not None:
        return MetricSpec(metric, source.unit, source.reduce, combine=source.combine)
    family, _, leaf = metric.partition(".")
    if leaf == "error_rate":
        rate = "jmeter.rate" if family == "jmeter" else f"{family}.rate"
        return MetricSpec(metric, "%", "ratio", counts_metric=rate)
    if family == "jmeter" and leaf == "rate":
        return MetricSpec(metric, "msg/s", "rate")
    if leaf in _FIXED:
        unit, reduce = _FIXED[leaf]
        return MetricSpec(metric, unit, reduce)
    raise InputError(f"unknown metric {metric!r}")


_LATENCY_UNITS = {"us": 0.001, "µs": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "min": 60_000.0}
_NUMBER_UNIT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Zµ%/]*)\s*$")


def parse_threshold(value: float | str, unit: Unit, where: str) -> float:
    """A plan threshold in the metric's base unit. ``where`` names the SLO for the error message."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    match = _NUMBER_UNIT.match(text)
    if not match:
        raise InputError(f"{where}: threshold {value!r} is not a number with a unit")
    number, suffix = float(match.group(1)), match.group(2)
    if not suffix:
        return number
    try:
        if unit == "ms" and suffix.lower() in _LATENCY_UNITS:
            return number * _LATENCY_UNITS[suffix.lower()]
        if unit == "ms":
            return parse_duration(text) * 1000.0
        if unit == "msg/s":
            return float(parse_rate(text))
        if unit == "MB/s" and suffix.endswith("/s"):
            return parse_size(text[: text.rindex("/")]) / 1e6
        if unit == "%" and suffix == "%":
            return number
        if unit == "B":
            return float(parse_size(text))
        if unit == "count" and suffix.lower() in ("k", "m", "g"):
            return number * {"k": 1e3, "m": 1e6, "g": 1e9}[suffix.lower()]
    except ValueError as err:
        raise InputError(f"{where}: threshold {value!r}: {err}") from None
    raise InputError(f"{where}: threshold {value!r} does not fit the metric's unit ({unit})")
