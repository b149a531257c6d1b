"""A log-linear latency histogram in microseconds, equivalent to an HdrHistogram with 2 significant digits.

Buckets: values below 256 µs each get their own bucket; above that, every power-of-two range
[2^k, 2^(k+1)) is split into 128 equal sub-buckets, so any recorded value is known to within
1/128 (< 0.8 %) of itself. The range runs from 0 to ``MAX_VALUE_US`` (2^43 µs, about 101 days);
a larger value is clamped into the top bucket and still counted, and a negative one (clock skew
between hosts) is counted as 0. Recording never fails.

The bucket index is ``(e << 7) + (v >> e)`` with ``e = max(0, v.bit_length() - 8)``: one
``bit_length``, one shift and one list increment per value; ``record_all`` takes a whole interval's
values in one call.

``to_dict`` gives the sparse JSON form used in the runner's interval records::

    {"unit": "us", "counts": {"<bucket index>": n, ...}, "count": n, "min": v, "max": v, "sum": v}

``min``, ``max`` and ``sum`` are exact (clamped values excepted); percentiles are bucket-accurate.
An empty histogram has count 0, min = max = sum = 0, and every percentile and the mean are 0.0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

SUB_BITS = 7
MAX_VALUE_US = (1 << 43) - 1
_TOP_EXPONENT = MAX_VALUE_US.bit_length() - (SUB_BITS + 1)
BUCKETS = (_TOP_EXPONENT << SUB_BITS) + (MAX_VALUE_US >> _TOP_EXPONENT) + 1


def bucket_index(value: int) -> int:
    e = value.bit_length() - (SUB_BITS + 1)
    if e <= 0:
        return value
    return (e << SUB_BITS) + (value >> e)


def bucket_bounds(index: int) -> tuple[int, int]:
    """The lowest and highest value that land in bucket ``index``."""
    e = (index >> SUB_BITS) - 1
    if e <= 0:
        return index, index
    mantissa = index - (e << SUB_BITS)
    return mantissa << e, ((mantissa + 1) << e) - 1


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    count: int = 0
    total: int = 0  # sum of recorded values, for the exact mean
    _min: int = MAX_VALUE_US + 1
    _max: int = 0

    def record(self, value_us: int) -> None:
        self.record_all((value_us,))

    def record_all(self, values_us: Iterable[int]) -> None:
        """Record many values in one pass (the runner's hot path: one call per interval, not per value)."""
        counts, lo, hi, n, total = self.counts, self._min, self._max, 0, 0
        for v in values_us:
            if v < 0:
                v = 0
            elif v > MAX_VALUE_US:
                v = MAX_VALUE_US
            e = v.bit_length() - 8
            counts[v if e <= 0 else (e << 7) + (v >> e)] += 1
            n += 1
            total += v
            if v < lo:
                lo = v
            if v > hi:
                hi = v
        self.count += n
        self.total += total
        self._min, self._max = lo, hi

    def record_many(self, value_us: int, times: int) -> None:
        """Record the same value ``times`` times (e.g. the zero delays of an unthrottled phase)."""
        if times <= 0:
            return
        v = min(max(value_us, 0), MAX_VALUE_US)
        self.counts[bucket_index(v)] += times
        self.count += times
        self.total += v * times
        self._min = min(self._min, v)
        self._max = max(self._max, v)

    def merge(self, other: Histogram) -> None:
        if not other.count:
            return
        mine = self.counts
        for i, n in enumerate(other.counts):
            if n:
                mine[i] += n
        self.count += other.count
        self.total += other.total
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)

    @property
    def min(self) -> int:
        return self._min if self.count else 0

    @property
    def max(self) -> int:
        return self._max

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def percentile(self, q: float) -> float:
        """The value at percentile ``q`` (0..100) in µs: the top of the bucket holding that rank,
        kept within the exact min and max (as HdrHistogram's ``getValueAtPercentile``)."""
        if not self.count:
            return 0.0
        if not 0.0 <= q <= 100.0:
            raise ValueError(f"percentile {q} is outside 0..100")
        rank = max(1, math.ceil(self.count * q / 100.0))
        seen = 0
        for i, n in enumerate(self.counts):
            if n:
                seen += n
                if seen >= rank:
                    return float(min(max(bucket_bounds(i)[1], self._min), self._max))
        return float(self._max)

    def to_dict(self) -> dict:
        return {
            "unit": "us",
            "counts": {str(i): n for i, n in enumerate(self.counts) if n},
            "count": self.count,
            "min": self.min,
            "max": self.max,
            "sum": self.total,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Histogram:
        """Inverse of ``to_dict``; raises ValueError on a malformed histogram."""
        if data.get("unit") != "us":
            raise ValueError(f"histogram unit must be 'us', got {data.get('unit')!r}")
        h = cls()
        try:
            for key, n in data["counts"].items():
                index, n = int(key), int(n)
                if not 0 <= index < BUCKETS or n < 0:
                    raise ValueError(f"histogram bucket {key}={n} is out of range")
                h.counts[index] += n
                h.count += n
            h.total = int(data["sum"])
            if h.count:
                h._min, h._max = int(data["min"]), int(data["max"])
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"malformed histogram: {e!r}") from e
        return h
