from __future__ import annotations

import random

import pytest

from orchestrator.analyze.latency import SPECTRUM, percentiles_ms, spectrum_for, stat_ms
from orchestrator.runner.histogram import Histogram


@pytest.fixture(scope="module")
def hist() -> Histogram:
    rnd, h = random.Random(3), Histogram()
    for _ in range(5000):
        h.record(int(rnd.lognormvariate(7, 1.5)))
    return h


def test_percentiles_match_the_histogram_rank_rule(hist):
    qs = SPECTRUM + [100.0, 33.3]
    assert percentiles_ms(hist, qs) == [hist.percentile(q) / 1000.0 for q in qs]


def test_order_of_requested_percentiles_does_not_matter(hist):
    assert percentiles_ms(hist, [99.0, 50.0]) == list(reversed(percentiles_ms(hist, [50.0, 99.0])))


def test_empty_histogram_gives_zeros():
    assert percentiles_ms(Histogram(), [50.0, 99.0]) == [0.0, 0.0]


@pytest.mark.parametrize("stat,q", [("p50", 50.0), ("p99", 99.0), ("p999", 99.9)])
def test_stat_names(hist, stat, q):
    assert stat_ms(hist, stat) == hist.percentile(q) / 1000.0


def test_max_and_mean_are_exact(hist):
    assert (stat_ms(hist, "max"), stat_ms(hist, "mean")) == (hist.max / 1000.0, hist.mean / 1000.0)


def test_the_spectrum_stops_where_the_samples_do():
    assert spectrum_for(50_000)[-1] == 99.995
    assert spectrum_for(100_000)[-1] == 99.999
    assert spectrum_for(10) == [0.0, 25.0, 50.0, 75.0, 90.0]
    assert spectrum_for(1) == [0.0]
    assert spectrum_for(0) == []
