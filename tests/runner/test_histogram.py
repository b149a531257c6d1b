import json
import math
import random

import pytest

from orchestrator.runner.histogram import BUCKETS, MAX_VALUE_US, Histogram, bucket_bounds, bucket_index


def exact_percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * q / 100.0))
    return ordered[rank - 1]


def filled(values) -> Histogram:
    h = Histogram()
    for v in values:
        h.record(v)
    return h


def test_every_value_lands_in_a_bucket_that_contains_it():
    for v in list(range(0, 5000)) + [2**k + d for k in range(8, 43) for d in (-1, 0, 1)]:
        low, high = bucket_bounds(bucket_index(v))
        assert low <= v <= high


def test_buckets_are_contiguous_and_within_one_percent():
    previous_high = -1
    for i in range(BUCKETS):
        low, high = bucket_bounds(i)
        assert low == previous_high + 1
        assert high - low <= low / 128
        previous_high = high
    assert previous_high == MAX_VALUE_US


@pytest.mark.parametrize("q", [0, 1, 50, 90, 99, 99.9, 100])
def test_percentiles_match_sorted_list_within_one_percent(q):
    rng = random.Random(7)
    values = [int(rng.lognormvariate(8, 2)) for _ in range(20000)]
    got = filled(values).percentile(q)
    want = exact_percentile(values, q)
    assert abs(got - want) <= want / 100 + 1


def test_huge_values_are_recorded_not_rejected():
    values = [10, 3_600_000_000 * 5, 7 * 24 * 3_600_000_000]  # 5 hours and a week
    h = filled(values)
    assert h.count == 3
    assert h.max == values[-1]
    assert abs(h.percentile(66) - values[1]) <= values[1] / 100


def test_values_beyond_the_range_are_clamped_into_the_top_bucket_and_counted():
    h = filled([1, MAX_VALUE_US * 1000])
    assert h.count == 2
    assert h.max == MAX_VALUE_US
    assert h.counts[BUCKETS - 1] == 1


def test_negative_values_count_as_zero():
    h = filled([-5, 10])
    assert (h.count, h.min) == (2, 0)


def test_min_max_mean_are_exact():
    h = filled([3, 1000, 123457])
    assert (h.min, h.max) == (3, 123457)
    assert h.mean == pytest.approx((3 + 1000 + 123457) / 3)


def test_empty_histogram_reports_zeros():
    h = Histogram()
    assert (h.count, h.min, h.max, h.mean, h.percentile(99)) == (0, 0, 0, 0.0, 0.0)


def test_percentile_outside_range_is_rejected():
    with pytest.raises(ValueError):
        filled([1]).percentile(101)


def test_merge_equals_recording_everything_in_one():
    rng = random.Random(3)
    a_values = [rng.randrange(1, 10**7) for _ in range(3000)]
    b_values = [rng.randrange(1, 10**9) for _ in range(3000)]
    merged = filled(a_values)
    merged.merge(filled(b_values))
    assert merged.to_dict() == filled(a_values + b_values).to_dict()


def test_merge_with_empty_keeps_min():
    h = filled([50])
    h.merge(Histogram())
    assert h.min == 50


def test_dict_round_trip_through_json_is_lossless():
    h = filled([1, 2, 300, 45_000, 10**10])
    again = Histogram.from_dict(json.loads(json.dumps(h.to_dict())))
    assert again.to_dict() == h.to_dict()
    assert again.percentile(50) == h.percentile(50)


def test_dict_form_is_sparse():
    assert filled([5, 5, 1000]).to_dict()["counts"] == {"5": 2, str(bucket_index(1000)): 1}


def test_from_dict_rejects_a_wrong_unit():
    with pytest.raises(ValueError, match="unit"):
        Histogram.from_dict({"unit": "ms", "counts": {}, "min": 0, "max": 0, "sum": 0})


def test_from_dict_rejects_a_bucket_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        Histogram.from_dict({"unit": "us", "counts": {str(BUCKETS): 1}, "min": 0, "max": 0, "sum": 0})
