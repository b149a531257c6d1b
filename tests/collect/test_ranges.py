import pytest

from orchestrator.collect.ranges import AFTER_STOP, BEFORE_START, add_ranges, audit, coalesce


def test_coalesce_merges_overlapping_and_adjacent_spans():
    assert coalesce([(5, 9), (0, 3), (4, 4), (20, 25), (22, 23)]) == [(0, 9), (20, 25)]


def test_missing_counts_acked_numbers_never_seen():
    acked, seen = {}, {}
    add_ranges(acked, {"p0/0": [[0, 99]], "p0/1": [[0, 49]], "p1/0": [[0, 9]]})
    add_ranges(seen, {"p0/0": [[0, 39]], "p0/1": [[0, 49]]})
    add_ranges(seen, {"p0/0": [[50, 99], [200, 300]]})  # a second consumer instance
    assert audit(acked, seen).lost == 10 + 10  # p0/0 40..49, all of p1/0


def test_seen_beyond_acked_is_not_negative_loss():
    acked, seen = {}, {}
    add_ranges(acked, {"p/0": [[10, 20]]})
    add_ranges(seen, {"p/0": [[0, 15], [18, 40]]})
    assert audit(acked, seen).lost == 2


@pytest.mark.parametrize("bad", [[[3, 1]], "x", [[1]], None, [[None, 2]]])
def test_malformed_ranges_raise_value_error(bad):
    with pytest.raises(ValueError):
        add_ranges({}, {"p/0": bad})


def _ranges(data: dict) -> dict:
    out: dict = {}
    add_ranges(out, data)
    return out


def test_audit_without_offsets_counts_every_unseen_message():
    result = audit(_ranges({"p/0": [[0, 99]]}), _ranges({"p/0": [[10, 89]]}))
    assert (result.lost, result.excluded) == (20, {})


def test_audit_excludes_what_came_before_the_consumers_start():
    # the producer's acks on partition 0 span offsets 500..599; the consumer started reading at 540
    acked, seen = _ranges({"p/0": [[0, 99]]}), _ranges({"p/0": [[40, 99]]})
    result = audit(acked, seen, {"p/0": (500, 599)}, starts={0: 540})
    assert result.lost == 0
    assert result.excluded == {BEFORE_START: (40, {0})}


def test_audit_still_counts_a_gap_after_the_consumers_start():
    acked, seen = _ranges({"p/0": [[0, 99]]}), _ranges({"p/0": [[40, 59], [70, 99]]})
    result = audit(acked, seen, {"p/0": (500, 599)}, starts={0: 540})
    assert result.lost == 10  # 60..69: acked after the start, never seen
    assert result.excluded == {BEFORE_START: (40, {0})}


def test_audit_stream_wholly_before_the_start_is_excluded_and_one_after_it_unseen_is_lost():
    acked = _ranges({"a/0": [[0, 9]], "b/0": [[0, 9]]})
    result = audit(acked, {}, {"a/0": (100, 109), "b/0": (200, 209)}, starts={0: 150})
    assert result.lost == 10  # b wrote after the start: nothing of it seen is a loss
    assert result.excluded == {BEFORE_START: (10, {0})}


def test_audit_excludes_what_was_beyond_the_consumers_last_position():
    acked, seen = _ranges({"p/1": [[0, 99]]}), _ranges({"p/1": [[0, 79]]})
    result = audit(acked, seen, {"p/1": (0, 99)}, ends={1: 80})
    assert result.lost == 0
    assert result.excluded == {AFTER_STOP: (20, {1})}


def test_audit_consumer_that_caught_up_excludes_nothing():
    acked, seen = _ranges({"p/1": [[0, 99]]}), _ranges({"p/1": [[0, 79]]})
    result = audit(acked, seen, {"p/1": (0, 99)}, starts={1: 0}, ends={1: 100})
    assert (result.lost, result.excluded) == (20, {})
