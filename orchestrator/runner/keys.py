"""Message keys and the partition each message goes to.

The producer picks the partition itself, so it knows each message's per-partition sequence number
when it sends it. Keyed messages go where Kafka's default partitioner would put them
(murmur2 of the key, as the Java client and librdkafka's ``murmur2`` partitioner do); unkeyed
messages stick to one partition for ``sticky`` messages and then move to the next, which keeps
batches full the way Kafka's sticky partitioner does.
"""

from __future__ import annotations

import math
import random

from orchestrator.runner.spec import KeySpec

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_CACHE_LIMIT = 1 << 20  # key index -> (key, partition), so the hash runs once per distinct key


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as an unsigned 32-bit value."""
    length = len(data)
    h = (0x9747B28C ^ length) & _MASK
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail, rest = length % 4, length - length % 4
    if tail == 3:
        h ^= data[rest + 2] << 16
    if tail >= 2:
        h ^= data[rest + 1] << 8
    if tail >= 1:
        h ^= data[rest]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


def partition_for(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class Zipf:
    """Zipf-distributed integers in 1..n with exponent s, in O(1) per sample: rejection-inversion
    (Hörmann and Derflinger, as in Apache Commons RNG), so a cardinality of 10^8 needs no table."""

    def __init__(self, n: int, s: float, rng: random.Random):
        self.n, self.s, self.rng = n, s, rng
        self.h_x1 = self._h_integral(1.5) - 1.0
        self.h_n = self._h_integral(n + 0.5)
        self.cut = 2.0 - self._h_integral_inverse(self._h_integral(2.5) - self._h(2.0))

    def _h(self, x: float) -> float:
        return math.exp(-self.s * math.log(x))

    def _h_integral(self, x: float) -> float:
        log_x = math.log(x)
        return _expm1_over_x((1.0 - self.s) * log_x) * log_x

    def _h_integral_inverse(self, x: float) -> float:
        t = max(-1.0, x * (1.0 - self.s))
        return math.exp(_log1p_over_x(t) * x)

    def sample(self) -> int:
        while True:
            u = self.h_n + self.rng.random() * (self.h_x1 - self.h_n)
            x = self._h_integral_inverse(u)
            k = min(self.n, max(1, int(x + 0.5)))
            if k - x <= self.cut or u >= self._h_integral(k + 0.5) - self._h(k):
                return k


def _expm1_over_x(x: float) -> float:
    return math.expm1(x) / x if abs(x) > 1e-8 else 1.0 + x / 2.0


def _log1p_over_x(x: float) -> float:
    return math.log1p(x) / x if abs(x) > 1e-8 else 1.0 - x / 2.0


class KeyChooser:
    """``next()`` gives (key or None, partition) for the next message."""

    def __init__(self, spec: KeySpec, partitions: int, sticky: int, rng: random.Random):
        self.partitions, self.sticky = partitions, max(1, sticky)
        self.distribution, self.cardinality = spec.distribution, spec.cardinality
        self.rng = rng
        self.zipf = Zipf(spec.cardinality, spec.skew, rng) if spec.distribution == "zipf" else None
        self.count = 0
        self.cache: dict[int, tuple[bytes, int]] = {}

    def next(self) -> tuple[bytes | None, int]:
        n = self.count
        self.count = n + 1
        if self.distribution == "none":
            return None, (n // self.sticky) % self.partitions
        if self.distribution == "round_robin":
            index = n % self.cardinality
        elif self.distribution == "random":
            index = self.rng.randrange(self.cardinality)
        else:
            index = self.zipf.sample() - 1
        return self.keyed(index)

    def keyed(self, index: int) -> tuple[bytes, int]:
        hit = self.cache.get(index)
        if hit is None:
            key = b"key-%d" % index
            hit = (key, partition_for(key, self.partitions))
            if len(self.cache) < _CACHE_LIMIT:
                self.cache[index] = hit
        return hit
