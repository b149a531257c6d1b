"""One timeline for every source: per-second series on a common clock (epoch seconds, UTC).

A series is identified by a ``SeriesKey``: the metric name (the same names SLOs use, see
``orchestrator.plan.models.METRIC_PATTERN``) plus where it was measured. Values are ``None`` where a
source has no data for that second (a clock gap, a source that started late), never 0.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SeriesKey:
    """Not orderable: its optional fields would compare None with str. Sort by ``column()``."""

    metric: str  # e.g. produce.rate, publish_latency.p99, consume.position_lag, disk.util, jmeter.elapsed.p99
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


_MISSING = float("nan")


class TimelineBuilder:
    """Collects per-second points from many sources and builds one ``Timeline``.

    Points are kept in one ``array('d')`` per series (NaN where nothing was recorded), so a 24-hour
    run of 30 series costs a few tens of MB, not a dict entry per point.
    """

    def __init__(self) -> None:
        self._base: dict[SeriesKey, int] = {}
        self._values: dict[SeriesKey, array] = {}

    def _slot(self, key: SeriesKey, ts: int) -> tuple[array, int]:
        values = self._values.get(key)
        if values is None:
            self._base[key], values = ts, array("d")
            self._values[key] = values
        base = self._base[key]
        if ts < base:
            values[0:0] = array("d", [_MISSING]) * (base - ts)
            self._base[key] = base = ts
        index = ts - base
        if index >= len(values):
            values.extend(array("d", [_MISSING]) * (index + 1 - len(values)))
        return values, index

    def set(self, key: SeriesKey, ts: int, value: float) -> None:
        values, index = self._slot(key, ts)
        values[index] = value

    def add(self, key: SeriesKey, ts: int, value: float) -> None:
        """Sum into the second (several instances of one workload report the same second)."""
        values, index = self._slot(key, ts)
        old = values[index]
        values[index] = value if old != old else old + value

    def span(self) -> tuple[int, int] | None:
        """The first and last epoch second holding data; None before any point."""
        if not self._values:
            return None
        return min(self._base.values()), max(self._base[k] + len(v) - 1 for k, v in self._values.items())

    def build(self, start: int | None = None, end: int | None = None) -> Timeline:
        """One timeline from ``start`` to ``end`` (inclusive epoch seconds; default: the data's span)."""
        span = self.span()
        if span is None:
            first = start if start is not None else 0
            return Timeline(start=first, length=0 if end is None else max(0, end - first + 1))
        first = start if start is not None else span[0]
        last = end if end is not None else span[1]
        timeline = Timeline(start=first, length=max(0, last - first + 1))
        for key in sorted(self._values, key=SeriesKey.column):
            base, values = self._base[key], self._values[key]
            series: list[float | None] = [None] * timeline.length
            for index, value in enumerate(values):
                slot = base + index - first
                if 0 <= slot < timeline.length and value == value:
                    series[slot] = value
            timeline.series[key] = series
        return timeline
