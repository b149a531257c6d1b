import random
from collections import Counter

import pytest

from orchestrator.runner.keys import KeyChooser, Zipf, murmur2, partition_for
from orchestrator.runner.spec import KeySpec


def signed(v: int) -> int:
    return v - (1 << 32) if v >= 1 << 31 else v


@pytest.mark.parametrize("data,expected", [
    (b"21", -973932308), (b"foobar", -790332482), (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829), (b"abc", 479470107),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
])
def test_murmur2_matches_kafka_test_vectors(data, expected):
    assert signed(murmur2(data)) == expected


def chooser(distribution: str, partitions: int = 4, sticky: int = 3, cardinality: int = 5) -> KeyChooser:
    return KeyChooser(KeySpec(distribution, cardinality, 1.2), partitions, sticky, random.Random(1))


def test_unkeyed_messages_stick_to_a_partition_then_move_on():
    c = chooser("none")
    assert [c.next() for _ in range(7)] == [(None, 0)] * 3 + [(None, 1)] * 3 + [(None, 2)]


def test_round_robin_keys_cycle_through_the_cardinality():
    c = chooser("round_robin")
    assert [c.next()[0] for _ in range(6)] == [b"key-0", b"key-1", b"key-2", b"key-3", b"key-4", b"key-0"]


def test_keyed_messages_go_to_the_murmur2_partition():
    c = chooser("random", partitions=7, cardinality=50)
    for _ in range(200):
        key, partition = c.next()
        assert partition == partition_for(key, 7)


def test_random_keys_stay_within_the_cardinality():
    c = chooser("random", cardinality=5)
    assert {c.next()[0] for _ in range(500)} == {b"key-%d" % i for i in range(5)}


def test_zipf_frequencies_follow_the_power_law():
    n, s, draws = 10, 1.2, 40_000
    z = Zipf(n, s, random.Random(5))
    counts = Counter(z.sample() for _ in range(draws))
    norm = sum(k ** -s for k in range(1, n + 1))
    for k in (1, 2, 5, 10):
        assert counts[k] / draws == pytest.approx(k ** -s / norm, abs=0.01)


def test_zipf_handles_a_huge_cardinality():
    z = Zipf(100_000_000, 1.1, random.Random(5))
    assert all(1 <= z.sample() <= 100_000_000 for _ in range(1000))
