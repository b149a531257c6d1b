import json
from pathlib import Path

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.kafka_admin import TopicLayout, read_admin_samples
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder

FIXTURES = Path(__file__).parent.parent / "fixtures" / "collect"
T0 = 1795596800


def _read():
    builder, diag = TimelineBuilder(), Diagnostics(FIXTURES)
    result = read_admin_samples(FIXTURES / "kafka_admin_samples.jsonl", builder, diag, interval=5.0)
    return result, builder.build(), diag.lines()


def test_partition_health_series():
    _, timeline, _ = _read()
    under = timeline.series[SeriesKey("broker.under_replicated")]
    offline = timeline.series[SeriesKey("broker.offline_partitions")]
    assert (under[0], under[5], under[30]) == (0.0, 2.0, 0.0)
    assert (offline[0], offline[5], offline[30]) == (0.0, 1.0, 0.0)
    assert under[1] is None


def test_group_lag_summed_over_partitions_per_workload():
    result, timeline, _ = _read()
    lag = timeline.series[SeriesKey("consume.committed_lag", workload="orders-in", label="orchestrate-orders-in")]
    assert (lag[0], lag[5]) == (15.0, 42.0)


def test_log_dir_bytes_per_broker():
    _, timeline, _ = _read()
    assert timeline.series[SeriesKey("broker.log_dir_bytes", host="1")][:6:5] == [3000.0, 7000.0]
    assert timeline.series[SeriesKey("broker.log_dir_bytes", host="2")][5] is None


def test_isr_changes_become_events_and_the_metadata_controller_does_not():
    # KRaft answers Metadata with an arbitrary live broker as controller: its changes mean nothing
    result, _, _ = _read()
    assert [(e.kind, e.name, e.detail) for e in result.events] == [
        ("isr_change", "orders-0", "isr [1, 2, 3] -> [2, 3]"),
        ("isr_change", "orders-1", "isr [1, 2, 3] -> []"),
        ("isr_change", "orders-0", "isr [2, 3] -> [1, 2, 3]"),
        ("isr_change", "orders-1", "isr [] -> [1, 2, 3]"),
    ]
    assert result.brokers == {"1", "2", "3"}


def test_corrupt_sample_sample_errors_and_clock_gap_are_warned():
    _, _, warnings = _read()
    assert "kafka_admin_samples.jsonl: 1 malformed lines skipped (first at line 3)" in warnings
    assert "kafka_admin_samples.jsonl: 1 admin sample errors (describe_log_dirs) (first at line 2)" in warnings
    assert any(w.startswith("kafka_admin_samples.jsonl:4: clock gap of 25 s") for w in warnings)


def test_missing_samples_file_gives_nothing(tmp_path):
    result = read_admin_samples(tmp_path / "samples.jsonl", TimelineBuilder(), Diagnostics(tmp_path), 5.0)
    assert result.events == []


def test_space_segments_configs_and_layout_of_a_listed_cluster(tmp_path):
    samples = [
        {"ts": T0, "brokers": [1, 2],
         "partitions": [{"topic": "orders", "partition": 0, "leader": 1, "replicas": [1, 2], "isr": [1, 2]},
                        {"topic": "orders", "partition": 1, "leader": 2, "replicas": [2], "isr": [2]}],
         "log_dirs": {"1": {"orders-0": 100, "audit-0": 7}, "2": {"orders-0": 100, "orders-1": 50}},
         "log_dirs_source": "local",
         "log_dir_space": {"1": [{"dir": "/a", "total": 1000, "usable": 400, "device": "64768"}],
                           "2": [{"dir": "/b", "total": 1000, "usable": 400, "device": "64768"}]},
         "segments": {"1": {"count": 2, "deleted": 0}},
         "configs": {"topics": {"orders": {"retention.ms": "300000"}}, "brokers": {"1": {"log.retention.check.interval.ms": "15000"}}},
         "errors": []},
        {"ts": T0 + 5, "log_dirs": {"2": {"orders-0": 10}}, "log_dirs_source": "describeLogDirs",
         "log_dir_space": {"2": [{"dir": "/b", "total": 1000, "usable": 300, "device": None}]},
         "segments": {"1": {"count": 1, "deleted": 3}}, "errors": []},
    ]
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    builder, diag = TimelineBuilder(), Diagnostics(tmp_path)
    result = read_admin_samples(path, builder, diag, interval=5.0)
    timeline = builder.build()
    assert timeline.series[SeriesKey("broker.log_dir_bytes", host="1", label="orders")][0] == 100.0
    assert timeline.series[SeriesKey("broker.log_dir_bytes", host="2", label="orders")][0] == 150.0
    assert timeline.series[SeriesKey("broker.log_dir_bytes", host="1", label="audit")][0] == 7.0
    # both brokers on one listed file system share its key; DescribeLogDirs keys by the dir
    assert timeline.series[SeriesKey("broker.log_dir_free_bytes", host="1", device="dev:64768")][0] == 400.0
    assert timeline.series[SeriesKey("broker.log_dir_free_bytes", host="2", device="dev:64768")][0] == 400.0
    assert timeline.series[SeriesKey("broker.log_dir_free_bytes", host="2", device="/b")][5] == 300.0
    assert timeline.series[SeriesKey("broker.segments_deleted", host="1")][::5] == [0.0, 3.0]
    assert result.cluster.topics["orders"] == TopicLayout(2, 2, {"1": 1, "2": 2})
    assert result.cluster.topic_configs == {"orders": {"retention.ms": "300000"}}
    assert result.cluster.broker_configs == {"1": {"log.retention.check.interval.ms": "15000"}}
    assert result.cluster.log_dirs_sources == {"local", "describeLogDirs"}
    assert diag.lines() == []


def test_only_a_new_quorum_leader_is_a_controller_change(tmp_path):
    """Metadata's controller alternates in a steady KRaft cluster; the quorum leader moves only
    when the active controller does (a sample that could not ask names none)."""
    samples = [{"ts": T0 + i, "controller": i % 3, **({"quorum_leader": leader} if leader is not None else {})}
               for i, leader in enumerate([1, 1, None, 1, 2, 2])]
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    result = read_admin_samples(path, TimelineBuilder(), Diagnostics(tmp_path), 1.0)
    assert [(e.ts, e.kind, e.name, e.detail) for e in result.events] == [
        (T0 + 4, "controller_change", "2", "active controller 1 -> 2")]
