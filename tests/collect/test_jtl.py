from pathlib import Path

import pytest

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.histograms import HistogramStore
from orchestrator.collect.jtl import JtlAggregator, LATE_WINDOW_S, elapsed_stats, read_jtl
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder

FIXTURES = Path(__file__).parent.parent / "fixtures" / "collect"
T0 = 1795596800


def _ingest(tmp_path, name: str):
    builder, store, diag = TimelineBuilder(), HistogramStore(tmp_path / "h.jsonl"), Diagnostics(FIXTURES)
    agg = JtlAggregator("jm", builder, store)
    read_jtl(FIXTURES / name, agg, diag)
    labels = {l.label: l for l in agg.finish()}
    return labels, builder.build(), store, diag.lines()


def test_taurus_kpi_with_quoted_commas_newlines_and_bad_lines(tmp_path):
    labels, timeline, _, warnings = _ingest(tmp_path, "kpi-taurus.jtl")
    assert sorted(labels) == ["produce", "produce, keyed"]
    assert (labels["produce"].count, labels["produce"].errors, labels["produce"].bytes) == (3, 0, 3072)
    assert (labels["produce, keyed"].count, labels["produce, keyed"].errors) == (2, 1)
    assert warnings == ["kpi-taurus.jtl: 2 malformed lines skipped (first at line 7)"]
    assert timeline.start == T0
    assert timeline.series[SeriesKey("jmeter.rate", workload="jm")] == [2.0, 2.0]
    assert timeline.series[SeriesKey("jmeter.errors", workload="jm")] == [1.0, 0.0]
    assert timeline.series[SeriesKey("jmeter.error_rate", workload="jm", label="produce, keyed")] == [100.0, 0.0]
    assert timeline.series[SeriesKey("jmeter.elapsed.max", workload="jm")] == [30.0, 40.0]


def test_every_elapsed_stat_an_slo_may_name_is_a_per_second_series(tmp_path):
    _, timeline, _, _ = _ingest(tmp_path, "kpi-taurus.jtl")
    found = {k.metric for k in timeline.series if k.metric.startswith("jmeter.elapsed.")}
    assert found == {f"jmeter.elapsed.{s}" for s in ("p50", "p90", "p95", "p99", "max", "mean")}
    assert timeline.series[SeriesKey("jmeter.elapsed.p95", workload="jm")] == [30.0, 40.0]
    assert timeline.series[SeriesKey("jmeter.elapsed.mean", workload="jm")] == [20.0, 32.5]  # (12+30+18)/3, (25+40)/2


def test_headerless_jmeter_default_17_columns(tmp_path):
    labels, _, _, warnings = _ingest(tmp_path, "jmeter-default-noheader.jtl")
    assert (labels["produce"].count, labels["produce"].bytes, labels["consume"].errors) == (2, 2048, 1)
    assert warnings == []


def test_headerless_taurus_13_columns(tmp_path):
    labels, _, _, warnings = _ingest(tmp_path, "taurus-noheader.jtl")
    assert labels["produce"].count == 2 and labels["produce"].latency().max == 20.0
    assert warnings == []


def test_custom_column_set_mapped_by_header(tmp_path):
    labels, _, _, warnings = _ingest(tmp_path, "custom-columns.jtl")
    assert (labels["send"].count, labels["send"].bytes, labels["send"].latency().p50) == (2, 0, 5.0)
    assert warnings == []


def test_xml_jtl_counts_top_level_samples_only(tmp_path):
    labels, _, store, warnings = _ingest(tmp_path, "results.xml.jtl")
    assert sorted(labels) == ["produce", "txn"]
    assert (labels["txn"].count, labels["txn"].errors, labels["produce"].count) == (1, 1, 2)
    assert warnings == []
    merged = store.histogram("elapsed", "jm", T0, T0 + 2)
    assert merged.count == 3 and merged.max == 50_000


def test_truncated_xml_keeps_samples_before_the_cut(tmp_path):
    labels, _, _, warnings = _ingest(tmp_path, "results-truncated.xml.jtl")
    assert labels["produce"].count == 1
    assert len(warnings) == 1 and warnings[0].startswith("results-truncated.xml.jtl:") and "cut short" in warnings[0]


def test_unknown_columns_and_empty_and_missing_files_are_warnings(tmp_path):
    (tmp_path / "empty.jtl").write_text("")
    for name, expected in (("unknown.jtl", "unknown JTL columns"), ("missing.jtl", "cannot read")):
        assert expected in _ingest(tmp_path, name)[3][0]
    diag = Diagnostics(tmp_path)
    read_jtl(tmp_path / "empty.jtl", JtlAggregator("jm", TimelineBuilder(), HistogramStore(tmp_path / "h2.jsonl")), diag)
    assert diag.lines() == ["empty.jtl: empty JTL"]


def test_late_sample_counts_in_totals_but_not_in_flushed_second(tmp_path):
    builder = TimelineBuilder()
    agg = JtlAggregator("jm", builder, HistogramStore(tmp_path / "h.jsonl"))
    rows = [[str(T0 * 1000), "5", "a", "true", "0"], [str((T0 + LATE_WINDOW_S + 5) * 1000), "5", "a", "true", "0"],
            [str(T0 * 1000 + 10), "9", "a", "true", "0"]]
    agg.feed(iter(rows), (5, 0, 1, 2, 3, 4, None, None), tmp_path / "x.jtl", Diagnostics(tmp_path), lambda: None)
    labels = agg.finish()
    assert labels[0].count == 3 and agg.late == 1
    assert builder.build().series[SeriesKey("jmeter.rate", workload="jm")][0] == 1.0


def test_elapsed_stats_exact_percentiles():
    stats = elapsed_stats({1: 50, 2: 40, 10: 9, 100: 1})
    assert (stats.count, stats.p50, stats.p90, stats.p99, stats.max) == (100, 1.0, 2.0, 10.0, 100.0)
    assert stats.mean == pytest.approx((50 + 80 + 90 + 100) / 100)


def _batch_with_messages(tmp_path: Path) -> Path:
    """What a generated producer's listener writes: each batch line, then its messages (sub-samples)."""
    header = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,success,bytes,Latency,Connect\n"
    ms = T0 * 1000
    lines = [f"{ms},100,jm batch,NONE,3 messages; 1 failed,jm 1-1,false,300,0,0\n",
             f"{ms + 1},4,jm,NONE,,jm 1-1,true,100,4,0\n",
             f"{ms + 2},6,jm,NONE,,jm 1-1,true,100,6,10\n",
             f"{ms + 3},30000,jm,REQUEST_TIMED_OUT,Expiring 1 record(s),jm 1-1,false,100,30000,2\n"]
    path = tmp_path / "messages.jtl"
    path.write_text(header + "".join(lines))
    return path


def test_generated_producer_batches_are_skipped_and_connect_is_the_publish_delay(tmp_path):
    store = HistogramStore(tmp_path / "h.jsonl")
    agg = JtlAggregator("jm", TimelineBuilder(), store, per_message=True)
    read_jtl(_batch_with_messages(tmp_path), agg, Diagnostics(tmp_path))
    [label] = agg.finish()
    assert (label.label, label.count, label.errors, label.bytes) == ("jm", 3, 1, 300)
    assert dict(label.delay) == {0: 1, 10: 1, 2: 1}
    assert dict(label.corrected) == {4: 1, 16: 1, 30002: 1}  # elapsed + delay, message by message
    assert label.error_codes == {"REQUEST_TIMED_OUT": (1, T0)}
    assert {kind for kind, _ in store.kinds()} == {"elapsed", "publish_latency", "publish_delay", "corrected_latency"}
    assert store.histogram("corrected_latency", "jm", T0, T0 + 1).max == 30002 * 1000


def test_other_workloads_count_every_row_and_keep_no_delays(tmp_path):
    agg = JtlAggregator("jm", TimelineBuilder(), HistogramStore(tmp_path / "h.jsonl"))
    read_jtl(_batch_with_messages(tmp_path), agg, Diagnostics(tmp_path))
    labels = {l.label: l for l in agg.finish()}
    assert sorted(labels) == ["jm", "jm batch"] and not labels["jm"].delay
