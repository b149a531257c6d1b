import json
from pathlib import Path

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.histograms import LATENCY_STATS, PERCENTILES, HistogramStore
from orchestrator.collect.native import NativeReader
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder
from orchestrator.runner.histogram import Histogram

T0 = 1795596800


def _interval(second: int, acked: int = 10, **extra) -> str:
    h = Histogram()
    h.record(2000)
    record = {"type": "interval", "ts": T0 + second + 1, "start": T0 + second, "workload": "w", "instance": 0,
              "role": "producer", "host": "a", "phase": "s", "sent": acked, "acked": acked, "errors": 0,
              "bytes": acked * 10, "target_rate": None, "hist": {"publish_latency": h.to_dict()}, **extra}
    return json.dumps(record)


def _read(tmp_path, lines: list[str]):
    path = tmp_path / "w-0.jsonl"
    path.write_text("\n".join(lines) + "\n")
    builder, diag = TimelineBuilder(), Diagnostics(tmp_path)
    reader = NativeReader(builder, HistogramStore(tmp_path / "h.jsonl"), diag)
    reader.read([path])
    return reader, builder.build(), diag.lines()


def test_clock_gap_leaves_none_and_a_warning(tmp_path):
    _, timeline, warnings = _read(tmp_path, [_interval(0), _interval(1), _interval(9)])
    rate = timeline.series[SeriesKey("produce.rate", workload="w")]
    assert rate[:2] == [10.0, 10.0] and rate[2:9] == [None] * 7 and rate[9] == 10.0
    assert warnings == [f"w-0.jsonl:3: clock gap of 8 s (no samples between epoch {T0 + 2} and {T0 + 10})"]


def test_malformed_histogram_skips_the_interval_with_a_warning(tmp_path):
    bad = json.loads(_interval(1))
    bad["hist"]["publish_latency"] = {"unit": "ms", "counts": {}}
    reader, _, warnings = _read(tmp_path, [_interval(0), json.dumps(bad)])
    assert reader.workloads["w"].messages == 10
    assert warnings == ["w-0.jsonl: 1 interval records with missing or malformed counts skipped (first at line 2)"]


def test_end_record_with_an_error_is_reported(tmp_path):
    end = json.dumps({"type": "end", "ts": T0 + 2, "workload": "w", "instance": 0, "role": "producer",
                      "reason": "error", "error": "broker unreachable", "acked_ranges": {}})
    reader, _, warnings = _read(tmp_path, [_interval(0), end])
    assert warnings == ["w-0.jsonl:2: w/0 stopped (error): broker unreachable"]
    assert reader.workloads["w"].ended == {"w/0"}


def test_per_second_percentiles_in_milliseconds(tmp_path):
    _, timeline, _ = _read(tmp_path, [_interval(0)])
    assert 1.99 <= timeline.series[SeriesKey("publish_latency.p99", workload="w")][0] <= 2.0


def test_every_latency_stat_an_slo_may_name_is_a_per_second_series(tmp_path):
    h = Histogram()
    for value in range(1000, 101_000, 1000):  # 1 … 100 ms
        h.record(value)
    record = json.loads(_interval(0))
    record["hist"] = {kind: h.to_dict() for kind in ("publish_latency", "publish_delay", "corrected_latency")}
    _, timeline, _ = _read(tmp_path, [json.dumps(record)])
    for kind in ("publish_latency", "publish_delay", "corrected_latency"):
        stats = {s: timeline.series[SeriesKey(f"{kind}.{s}", workload="w")][0] for s in LATENCY_STATS}
        assert stats == {**{name: h.percentile(q) / 1000 for name, q in PERCENTILES}, "max": 100.0, "mean": 50.5}
    assert not timeline.select("e2e_latency.p50")  # a producer has no end-to-end latency


def test_in_flight_messages_and_their_oldest_wait_are_series(tmp_path):
    stalled = json.loads(_interval(1, acked=0))
    stalled.update(sent=10, hist={}, in_flight=10, oldest_in_flight_ms=800.0)
    _, timeline, _ = _read(tmp_path, [_interval(0, in_flight=0, oldest_in_flight_ms=0.0), json.dumps(stalled)])
    assert timeline.series[SeriesKey("produce.sent", workload="w")] == [10.0, 10.0]
    assert timeline.series[SeriesKey("produce.in_flight", workload="w")] == [0.0, 10.0]
    assert timeline.series[SeriesKey("produce.oldest_in_flight", workload="w")] == [0.0, 800.0]
    assert timeline.series[SeriesKey("publish_latency.p99", workload="w")] == [2.0, None]


def test_records_without_in_flight_counts_still_read(tmp_path):
    _, timeline, warnings = _read(tmp_path, [_interval(0)])
    assert not timeline.select("produce.in_flight") and not warnings


def test_failed_sends_are_counted_by_error_code_with_when_each_was_first_seen(tmp_path):
    reader, _, _ = _read(tmp_path, [_interval(0), _interval(1, errors=3, error_codes={"_MSG_TIMED_OUT": 3}),
                                    _interval(2, errors=2, error_codes={"_MSG_TIMED_OUT": 1, "NOT_ENOUGH_REPLICAS": 1})])
    assert reader.workloads["w"].error_codes == {"_MSG_TIMED_OUT": (4, T0 + 1), "NOT_ENOUGH_REPLICAS": (1, T0 + 2)}
