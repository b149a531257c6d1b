from orchestrator.runner.sequence import MAGIC, PREFIX, SeenRanges, acked_ranges, count_in, decode_prefix


def feed(seqs):
    seen = SeenRanges()
    return seen, [seen.add(s) for s in seqs]


def test_in_order_stream_is_one_range():
    seen, verdicts = feed(range(100))
    assert seen.ranges() == [[0, 99]] and set(verdicts) == {"new"}


def test_gap_leaves_two_ranges():
    seen, _ = feed([0, 1, 2, 5, 6])
    assert seen.ranges() == [[0, 2], [5, 6]]


def test_repeated_number_is_a_duplicate():
    seen, verdicts = feed([0, 1, 2, 1])
    assert verdicts[-1] == "duplicate" and seen.ranges() == [[0, 2]]


def test_late_number_filling_a_gap_is_out_of_order_and_joins_ranges():
    seen, verdicts = feed([0, 1, 3, 4, 2])
    assert verdicts[-1] == "out_of_order" and seen.ranges() == [[0, 4]]


def test_late_number_inside_a_wide_gap_opens_its_own_range():
    seen, verdicts = feed([0, 10, 5])
    assert verdicts[-1] == "out_of_order" and seen.ranges() == [[0, 0], [5, 5], [10, 10]]


def test_late_numbers_extend_neighbouring_ranges():
    seen, _ = feed([0, 10, 1, 9])
    assert seen.ranges() == [[0, 1], [9, 10]]


def test_duplicate_of_an_old_range_is_found():
    _, verdicts = feed([0, 1, 5, 6, 0])
    assert verdicts[-1] == "duplicate"


def test_acked_ranges_leave_out_failed_messages():
    assert acked_ranges(10, [3, 4, 9]) == [[0, 2], [5, 8]]


def test_acked_ranges_of_a_clean_stream_are_one_range():
    assert acked_ranges(5, []) == [[0, 4]]


def test_lost_messages_are_acked_minus_seen():
    acked = acked_ranges(10, [])
    seen, _ = feed([0, 1, 2, 6, 7, 8, 9])
    assert count_in(acked) - count_in(seen.ranges()) == 3


def test_prefix_round_trips():
    value = PREFIX.pack(MAGIC, 42, 7, 1_700_000_000_000_000) + b"payload"
    assert decode_prefix(value) == (42, 7)


def test_foreign_messages_have_no_prefix():
    assert decode_prefix(b"hello world, not ours") is None
    assert decode_prefix(None) is None
