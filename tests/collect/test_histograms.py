import random

import pytest

from orchestrator.collect.histograms import LATENCY_STATS, PERCENTILES, HistogramStore, SparseHistogram
from orchestrator.runner.histogram import Histogram


def _pair(values):
    dense, sparse = Histogram(), SparseHistogram()
    for v in values:
        dense.record(v)
        sparse.add_value(v)
    return dense, sparse


def test_sparse_histogram_matches_the_runners_histogram():
    rng = random.Random(3)
    dense, sparse = _pair([int(rng.lognormvariate(8, 1.5)) for _ in range(5000)])
    for q in (50.0, 90.0, 99.0, 99.9, 100.0):
        assert sparse.percentile(q) == dense.percentile(q)
    converted = sparse.to_histogram()
    assert (converted.count, converted.max, converted.min, converted.mean) == (dense.count, dense.max, dense.min, dense.mean)


def test_stats_match_the_runners_histogram_in_latency_stats_order():
    dense, sparse = _pair([int(random.Random(5).lognormvariate(7, 2)) for _ in range(2000)])
    expected = {**{name: dense.percentile(q) for name, q in PERCENTILES}, "max": float(dense.max), "mean": dense.mean}
    assert dict(zip(LATENCY_STATS, sparse.stats())) == expected


def test_add_dict_and_merge_sum_counts():
    dense, _ = _pair([100, 2000, 300_000])
    a, b = SparseHistogram(), SparseHistogram()
    a.add_dict(dense.to_dict())
    b.add_dict(dense.to_dict())
    a.merge(b)
    assert (a.count, a.min, a.max, a.total) == (6, 100, 300_000, 2 * 302_100)


@pytest.mark.parametrize("bad", [{"unit": "ms", "counts": {}, "count": 0}, {"unit": "us"}, {"unit": "us", "counts": [], "count": 1}])
def test_malformed_histogram_dict_raises_value_error(bad):
    with pytest.raises(ValueError):
        SparseHistogram().add_dict(bad)


def test_store_merges_only_the_window_and_workload_asked_for(tmp_path):
    store = HistogramStore(tmp_path / "h.jsonl")
    for second, workload, value in ((10, "a", 1000), (11, "a", 2000), (11, "b", 5000), (12, "a", 9000)):
        h = Histogram()
        h.record(value)
        store.put("e2e_latency", workload, second, h.to_dict())
    store.put("e2e_latency", "a", 13, Histogram().to_dict())  # empty: not stored
    assert store.histogram("e2e_latency", "a", 10, 12).count == 2
    assert store.histogram("e2e_latency", None, 11, 12.5).count == 3  # seconds overlapping the window
    store.close()
    assert store.histogram("e2e_latency", "a", 10.7, 100).max == 9000
    assert store.histogram("publish_latency", "a", 0, 100) is None


def _store_of(tmp_path, seconds, workload="a"):
    store = HistogramStore(tmp_path / "h.jsonl")
    for second in seconds:
        h = Histogram()
        h.record(1000 * (second + 1))  # each second's value names it
        store.put("e2e_latency", workload, second, h.to_dict())
    return store


@pytest.mark.parametrize("start, end, expected", [
    (10, 13, (10, 12)),  # start inclusive, end exclusive
    (10.5, 12.5, (10, 12)),  # partial seconds at either edge overlap
    (11, 11, None),  # empty window
    (10.2, 10.9, (10, 10)),  # inside one second
    (20, 30, None),  # beyond the data
    (0, 10, None),  # ends where the data starts
    (float("-inf"), float("inf"), (10, 14)),  # everything
])
def test_store_window_edges(tmp_path, start, end, expected):
    store = _store_of(tmp_path, [10, 11, 12, 13, 14])
    merged = store.histogram("e2e_latency", "a", start, end)
    if expected is None:
        assert merged is None
    else:
        first, last = expected  # the first and last second merged
        assert (merged.count, merged.min, merged.max) == (last - first + 1, 1000 * (first + 1), 1000 * (last + 1))


def test_store_keeps_several_histograms_of_one_second_and_seconds_that_arrive_out_of_order(tmp_path):
    store = _store_of(tmp_path, [10, 12, 12, 11, 13])  # 11 after 12: a runner file whose clock went back
    assert store.histogram("e2e_latency", "a", 11, 13).count == 3
    store.put("e2e_latency", "a", 9, store.histogram("e2e_latency", "a", 10, 11).to_dict())  # after a query
    assert store.histogram("e2e_latency", "a", 9, 10).max == 11_000
    assert store.histogram("e2e_latency", "a", 0, 100).count == 6
