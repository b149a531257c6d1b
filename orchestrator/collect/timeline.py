"""One timeline for every source: per-second series on a common clock (epoch seconds, UTC).

A series is identified by a ``SeriesKey``: the metric name (the same names SLOs use, see
``orchestrator.plan.models.METRIC_PATTERN``) plus where it was measured. Values are ``None`` where a
source has no data for that second (a clock gap, a source that started late), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class SeriesKey:
    metric: str  # e.g. produce.rate, publish_latency.p99, consume.lag, disk.util, jmeter.elapsed.p99
    workload: str | None = None
    host: str | None = None
    device: str | None = None
    label: str | None = None  # JMeter sampler label

    def column(self) -> str:
        """A stable CSV column name: metric[workload=…,host=…,…]."""
        parts = [f"{k}={v}" for k, v in (("workload", self.workload), ("host", self.host),
                                          ("device", self.device), ("label", self.label)) if v is not None]
        return f"{self.metric}[{','.join(parts)}]" if parts else self.metric


@dataclass
class Timeline:
    start: int  # epoch second of index 0
    length: int
    series: dict[SeriesKey, list[float | None]] = field(default_factory=dict)

    def times(self) -> range:
        return range(self.start, self.start + self.length)

    def select(self, metric: str, **where: str | None) -> dict[SeriesKey, list[float | None]]:
        """Series of one metric, optionally narrowed by workload/host/device/label."""
        return {k: v for k, v in self.series.items()
                if k.metric == metric and all(getattr(k, f) == want for f, want in where.items())}
