from orchestrator.collect.timeline import SeriesKey, TimelineBuilder

RATE = SeriesKey("produce.rate", workload="w")


def test_builder_adds_instances_and_leaves_gaps_as_none():
    builder = TimelineBuilder()
    builder.add(RATE, 102, 5.0)
    builder.add(RATE, 102, 7.0)
    builder.set(RATE, 100, 1.0)  # earlier than the first point: the series grows backwards
    timeline = builder.build()
    assert (timeline.start, timeline.length) == (100, 3)
    assert timeline.series[RATE] == [1.0, None, 12.0]


def test_build_with_a_wider_window_pads_every_series():
    builder = TimelineBuilder()
    builder.set(RATE, 10, 1.0)
    builder.set(SeriesKey("disk.util", host="h", device="sda"), 12, 50.0)
    timeline = builder.build(8, 13)
    assert timeline.series[RATE] == [None, None, 1.0, None, None, None]
    assert list(timeline.select("disk.util", host="h")) == [SeriesKey("disk.util", host="h", device="sda")]


def test_empty_builder_builds_an_empty_timeline():
    assert TimelineBuilder().build().length == 0
    assert TimelineBuilder().build(5, 9).length == 5


def test_build_orders_keys_that_differ_only_by_none_and_a_string():
    builder = TimelineBuilder()
    labelled, unlabelled = SeriesKey("jmeter.rate", workload="j", label="x"), SeriesKey("jmeter.rate", workload="j")
    builder.set(labelled, 1, 2.0)
    builder.set(unlabelled, 1, 3.0)  # comparing the keys themselves would compare None with "x"
    assert list(builder.build().series) == [labelled, unlabelled]  # by column: "…,label=x]" < "…]"


def test_span_is_the_first_and_last_second_with_data():
    builder = TimelineBuilder()
    assert builder.span() is None
    builder.set(RATE, 12, 1.0)
    builder.set(SeriesKey("disk.util", host="h"), 9, 1.0)
    assert builder.span() == (9, 12)
