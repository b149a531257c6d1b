"""Latency histograms: sparse merging while streaming, and a per-second store for window queries.

Merging the runner's dense ``Histogram`` (about 4,600 buckets) once per interval record would cost
more than parsing; ``SparseHistogram`` adds only the non-empty buckets and becomes a ``Histogram``
once, at the end.

Per-window aggregates (a phase, an SLO window) must merge histograms, never average percentiles,
yet a long run's per-second histograms do not fit in memory. ``HistogramStore`` therefore spills
them to ``results/histograms.jsonl`` (one line per second, kind and workload, in the runner's
sparse JSON form) and keeps only an index of (second, file offset) per kind and workload in memory;
``histogram()`` finds the window in that index by bisection and re-reads and merges just its lines,
so a query costs the window it asks for, not the length of the run.
"""

from __future__ import annotations

import json
import math
from array import array
from bisect import bisect_left, bisect_right
from itertools import accumulate
from pathlib import Path

from orchestrator.runner.histogram import Histogram, bucket_bounds, bucket_index

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0), ("p999", 99.9))
# every statistic of a latency kind that SLOs may name (``METRIC_PATTERN``), in ``stats()`` order
LATENCY_STATS = tuple(name for name, _ in PERCENTILES) + ("max", "mean")


class SparseHistogram:
    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.count = 0
        self.total = 0
        self.min: int | None = None
        self.max = 0

    def add_value(self, value_us: int, n: int = 1) -> None:
        index = bucket_index(value_us)
        self.counts[index] = self.counts.get(index, 0) + n
        self.count += n
        self.total += value_us * n
        self.min = value_us if self.min is None else min(self.min, value_us)
        self.max = max(self.max, value_us)

    def add_dict(self, data: dict) -> None:
        """Add a histogram in ``Histogram.to_dict`` form; raises ValueError when it is malformed."""
        try:
            if data.get("unit") != "us":
                raise ValueError(f"histogram unit must be 'us', got {data.get('unit')!r}")
            counts = self.counts
            for key, n in data["counts"].items():
                index = int(key)
                counts[index] = counts.get(index, 0) + int(n)
            count = int(data["count"])
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"malformed histogram: {err!r}") from err
        if count:
            self.count += count
            self.total += int(data["sum"])
            self.min = int(data["min"]) if self.min is None else min(self.min, int(data["min"]))
            self.max = max(self.max, int(data["max"]))

    def merge(self, other: SparseHistogram) -> None:
        for index, n in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + n
        if other.count:
            self.count += other.count
            self.total += other.total
            self.min = other.min if self.min is None else min(self.min, other.min or 0)
            self.max = max(self.max, other.max)

    def to_dict(self) -> dict:
        return {"unit": "us", "counts": {str(i): n for i, n in self.counts.items()}, "count": self.count,
                "min": self.min or 0, "max": self.max, "sum": self.total}

    def to_histogram(self) -> Histogram:
        return Histogram.from_dict(self.to_dict())

    def percentile(self, q: float) -> float:
        """Same definition as ``Histogram.percentile`` (µs), without building the dense form."""
        return self.percentiles([q])[0]

    def percentiles(self, qs: list[float]) -> list[float]:
        """Values (µs) at percentiles ``qs``: one sort and one running sum of the buckets for all of them."""
        if not self.count:
            return [0.0] * len(qs)
        indices = sorted(self.counts)
        cumulative = list(accumulate(map(self.counts.__getitem__, indices)))
        low, found = self.min or 0, []
        for q in qs:
            at = bisect_left(cumulative, max(1, math.ceil(self.count * q / 100.0)))
            top = bucket_bounds(indices[at])[1] if at < len(indices) else self.max
            found.append(float(min(max(top, low), self.max)))
        return found

    def stats(self) -> list[float]:
        """The ``LATENCY_STATS`` in µs: percentiles, max and mean."""
        values = self.percentiles([q for _, q in PERCENTILES])
        return values + [float(self.max), self.total / self.count if self.count else 0.0]


class HistogramStore:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out = path.open("wb")
        self._offset = 0
        self._index: dict[tuple[str, str], tuple[array, array]] = {}
        # keys that received a second older than their last one (a runner file whose clock went
        # back): re-sorted once before the next query, so bisection stays valid
        self._unsorted: set[tuple[str, str]] = set()

    def put(self, kind: str, workload: str, second: int, hist: dict) -> None:
        """Store one second's histogram (``Histogram.to_dict`` form); several per second are merged on read."""
        if not hist.get("count"):
            return
        key = (kind, workload)
        seconds, offsets = self._index.setdefault(key, (array("q"), array("q")))
        if seconds and second < seconds[-1]:
            self._unsorted.add(key)
        seconds.append(second)
        offsets.append(self._offset)
        line = (json.dumps(hist, separators=(",", ":")) + "\n").encode("ascii")
        self._out.write(line)
        self._offset += len(line)

    def close(self) -> None:
        self._out.close()

    def kinds(self) -> set[tuple[str, str]]:
        return set(self._index)

    def _sort(self) -> None:
        for key in self._unsorted:
            pairs = sorted(zip(*self._index[key]))
            self._index[key] = (array("q", (s for s, _ in pairs)), array("q", (o for _, o in pairs)))
        self._unsorted.clear()

    def histogram(self, kind: str, workload: str | None, start: float, end: float) -> Histogram | None:
        """Merged histogram of the seconds that overlap [start, end), for one workload or all (None)."""
        merged = SparseHistogram()
        if not self._out.closed:
            self._out.flush()
        self._sort()
        with self.path.open("rb") as stream:
            for (k, w), (seconds, offsets) in self._index.items():
                if k != kind or (workload is not None and w != workload):
                    continue
                # second s covers [s, s + 1): it overlaps the window when start - 1 < s < end
                for i in range(bisect_right(seconds, start - 1), bisect_left(seconds, end)):
                    stream.seek(offsets[i])
                    merged.add_dict(json.loads(stream.readline()))
        return merged.to_histogram() if merged.count else None
