import pytest

from orchestrator.collect.ranges import add_ranges, coalesce, missing


def test_coalesce_merges_overlapping_and_adjacent_spans():
    assert coalesce([(5, 9), (0, 3), (4, 4), (20, 25), (22, 23)]) == [(0, 9), (20, 25)]


def test_missing_counts_acked_numbers_never_seen():
    acked, seen = {}, {}
    add_ranges(acked, {"p0/0": [[0, 99]], "p0/1": [[0, 49]], "p1/0": [[0, 9]]})
    add_ranges(seen, {"p0/0": [[0, 39]], "p0/1": [[0, 49]]})
    add_ranges(seen, {"p0/0": [[50, 99], [200, 300]]})  # a second consumer instance
    assert missing(acked, seen) == 10 + 10  # p0/0 40..49, all of p1/0


def test_seen_beyond_acked_is_not_negative_loss():
    acked, seen = {}, {}
    add_ranges(acked, {"p/0": [[10, 20]]})
    add_ranges(seen, {"p/0": [[0, 15], [18, 40]]})
    assert missing(acked, seen) == 2


@pytest.mark.parametrize("bad", [[[3, 1]], "x", [[1]], None, [[None, 2]]])
def test_malformed_ranges_raise_value_error(bad):
    with pytest.raises(ValueError):
        add_ranges({}, {"p/0": bad})
