import json
import shutil
from pathlib import Path

import pytest

from orchestrator.collect import collect
from orchestrator.collect.timeline import SeriesKey
from orchestrator.errors import InputError
from orchestrator.rundir import RunDir

FIXTURES = Path(__file__).parent.parent / "fixtures" / "collect"
T0 = 1795596800


@pytest.fixture
def run(tmp_path) -> RunDir:
    run = RunDir(tmp_path / "run")
    (run.raw / "jmeter" / "jm").mkdir(parents=True)
    shutil.copy(FIXTURES / "plan.resolved.yaml", run.resolved_plan)
    shutil.copytree(FIXTURES / "native", run.raw / "native")
    shutil.copy(FIXTURES / "kpi-taurus.jtl", run.raw / "jmeter" / "jm" / "kpi.jtl")
    shutil.copy(FIXTURES / "events.jsonl", run.events)
    (run.raw / "iostat").mkdir()
    shutil.copy(FIXTURES / "iostat.json", run.raw / "iostat" / "broker1.json")
    (run.raw / "kafka_admin").mkdir()
    shutil.copy(FIXTURES / "kafka_admin_samples.jsonl", run.raw / "kafka_admin" / "samples.jsonl")
    return run


def _workload(collected, name):
    return next(w for w in collected.workloads if w.name == name)


def test_native_producer_totals_from_both_instances(run):
    out = _workload(collect(run), "orders-out")
    assert (out.kind, out.engine, out.messages, out.bytes, out.errors, out.duration_s) == ("producer", "native", 400, 400_000, 2, 2.0)
    assert out.throughput.msgs_per_s == 200.0 and out.throughput.mb_per_s == 0.2
    assert out.latency_ms["publish_latency"].count == 12
    assert out.latency_ms["publish_latency"].max == 40.0
    assert out.lost is None


def test_consumer_lost_and_duplicated(run):
    consumer = _workload(collect(run), "orders-in")
    assert consumer.messages == 350
    assert consumer.lost == 10  # orders-out-1/0 150..159 acked, never seen
    assert consumer.lost_excluded == []
    assert (consumer.duplicated, consumer.out_of_order) == (1, 0)


def test_position_and_committed_lag_are_two_series(run):
    timeline = collect(run).timeline
    assert timeline.series[SeriesKey("consume.position_lag", workload="orders-in")][:2] == [50.0, 30.0]
    committed = timeline.select("consume.committed_lag", workload="orders-in")
    assert list(committed) == [SeriesKey("consume.committed_lag", workload="orders-in", label="orchestrate-orders-in")]
    assert "consume.lag" not in {k.metric for k in timeline.series}


def test_native_series_combine_instances_per_second(run):
    timeline = collect(run).timeline
    rate = timeline.series[SeriesKey("produce.rate", workload="orders-out")]
    assert rate[0] == 200.0 and rate[1] == 200.0
    p99 = timeline.series[SeriesKey("publish_latency.p99", workload="orders-out")]
    assert 39.0 < p99[1] <= 40.0


def test_histogram_window_merges_instances(run):
    collected = collect(run)
    first = collected.histogram("publish_latency", "orders-out", T0, T0 + 1)
    both = collected.histogram("publish_latency", "orders-out", T0, T0 + 2)
    assert first.count == 6 and both.count == 12
    # a generated JMeter producer's messages count in the publish latency of all workloads too
    assert collected.histogram("publish_latency", None, T0, T0 + 2).count == 12 + 5
    assert collected.histogram("e2e_latency", "orders-in", T0 + 100, T0 + 200) is None
    assert collected.histogram("elapsed", "jm", T0, T0 + 2).count == 5


def test_jmeter_workload_and_label_table(run):
    collected = collect(run)
    jm = _workload(collected, "jm")
    assert (jm.engine, jm.messages, jm.errors) == ("jmeter", 4, 1)
    assert jm.latency_ms["elapsed"].max == 40.0
    assert jm.latency_ms["publish_latency"] == jm.latency_ms["elapsed"]  # a generated producer: the native kinds too
    assert {"publish_delay", "corrected_latency"} <= set(jm.latency_ms)
    assert [(e.code, e.count, e.first) for e in jm.errors_by_code] == [("500", 1, T0)]  # failed samples by response code
    assert [(l.label, l.count) for l in collected.jmeter_labels] == [("produce", 3), ("produce, keyed", 2)]


def test_iostat_series_keyed_by_file_host_and_device(run):
    util = collect(run).timeline.select("disk.util", host="broker1", device="vda")
    assert [v for v in next(iter(util.values())) if v is not None] == [6.0, 1.2]


def test_events_phases_and_admin_events_merged(run):
    collected = collect(run)
    assert [p.name for p in collected.phases] == ["warm", "steady"]
    assert collected.phases[0].kind == "warmup"
    kinds = [e.kind for e in collected.events]
    assert "isr_change" in kinds and "fault_start" in kinds
    assert [e.ts for e in collected.events] == sorted(e.ts for e in collected.events)


def test_agents_are_the_hosts_that_ran_load_not_monitored_hosts(run):
    # native records name agent1 and agent2; the JMeter workload ran here; broker1 only ran iostat
    assert collect(run).environment.agents == ["agent1", "agent2", "localhost"]


def test_brokers_without_known_addresses_are_labelled_by_id(run):
    assert collect(run).environment.brokers == ["id 1", "id 2", "id 3"]


def test_brokers_are_the_bootstrap_addresses_when_one_per_broker(run):
    lines = run.events.read_text().splitlines()
    lines[0] = lines[0].replace('"name": "quickstart"', '"name": "quickstart", "detail": "bootstrap b1:9092,b2:9092,b3:9092"')
    run.events.write_text("\n".join(lines) + "\n")
    assert collect(run).environment.brokers == ["b1:9092", "b2:9092", "b3:9092"]


def test_warnings_name_files_and_lines_and_missing_workload(run):
    warnings = collect(run).warnings
    assert "raw/native/orders-in-0.jsonl: 1 malformed lines skipped (first at line 4)" in warnings
    assert "raw/jmeter/jm/kpi.jtl: 2 malformed lines skipped (first at line 7)" in warnings
    assert "raw: no results for workload idle (native)" in warnings


def test_run_with_only_a_plan_collects_empty(tmp_path):
    run = RunDir(tmp_path)
    shutil.copy(FIXTURES / "plan.resolved.yaml", run.resolved_plan)
    collected = collect(run)
    assert collected.timeline.length == 0 and [w.messages for w in collected.workloads] == [0, 0, 0, 0]
    assert "raw/events.jsonl: missing: no phase or fault markers" in collected.warnings


def test_timeline_widened_to_run_events_with_gaps_as_none(run):
    timeline = collect(run).timeline
    assert timeline.start == T0 and timeline.length >= 31
    assert timeline.series[SeriesKey("produce.rate", workload="orders-out")][20] is None


@pytest.mark.parametrize("content, expected", [(None, "cannot read"), ("a: [", "not valid YAML"), ("metadata: {}", "not a valid plan")])
def test_bad_resolved_plan_is_an_input_error(tmp_path, content, expected):
    run = RunDir(tmp_path)
    if content is not None:
        run.resolved_plan.write_text(content)
    with pytest.raises(InputError, match=expected):
        collect(run)


def test_jtl_and_iostat_clock_gaps_are_warned(run):
    jtl = run.raw / "jmeter" / "jm" / "kpi.jtl"
    jtl.write_text(jtl.read_text().rstrip("\n").rsplit("\n", 1)[0] + f"\n{(T0 + 30) * 1000},5,produce,200,OK,t,true,1,1,1,1,h,1\n")
    warnings = collect(run).warnings
    assert f"raw/jmeter/jm: clock gap of 29 s (no samples between epoch {T0 + 1} and {T0 + 30})" in warnings
    assert not [w for w in warnings if w.startswith("raw/iostat/")]


def test_iostat_clock_gap_is_warned(run):
    path = run.raw / "iostat" / "broker1.json"
    path.write_text(path.read_text().replace("2026-11-25T08:53:35+0000", "2026-11-25T08:53:45+0000"))
    assert "raw/iostat/broker1.json: clock gap of 11 s (no samples between epoch 1795596814 and 1795596825)" in collect(run).warnings


def test_applys_own_usage_is_read_and_a_bad_record_is_a_warning(run):
    assert collect(run).environment.orchestrator is None  # a run before it was recorded, or killed
    run.orchestrator_usage.write_text(json.dumps({"cluster_ready": 100.0, "load_start": 104.5, "since": 102.0,
                                                  "until": 142.0, "cpu_s": 2.0, "max_rss_kb": 102400}))
    own = collect(run).environment.orchestrator
    assert (own.ready_to_load_s, own.cpu_s, own.cpu_share, own.max_rss_mb) == (4.5, 2.0, 0.05, 100.0)
    assert own.runners_cpu_s is None  # end records from before runners recorded their CPU
    for name, cpu in (("orders-out-0", 1.25), ("orders-in-0", 0.5)):
        path = run.raw / "native" / f"{name}.jsonl"
        lines = path.read_text().splitlines()
        end = json.loads(lines[-1])
        assert end["type"] == "end"
        path.write_text("\n".join([*lines[:-1], json.dumps({**end, "cpu_s": cpu})]) + "\n")
    assert collect(run).environment.orchestrator.runners_cpu_s == 1.75
    run.orchestrator_usage.write_text('{"cpu_s": 1}')
    collected = collect(run)
    assert collected.environment.orchestrator is None
    assert any(w.startswith("raw/orchestrator.json: unreadable") for w in collected.warnings)


def _audit_run(tmp_path, start: str) -> RunDir:
    """A producer acked offsets 0..99 of partition 0; the consumer began reading at offset 30."""
    run = RunDir(tmp_path / "run")
    (run.raw / "native").mkdir(parents=True)
    run.resolved_plan.write_text(
        "metadata: {name: audit}\ntopics: [{name: t, partitions: 1}]\n"
        "workloads:\n  - {name: p, kind: producer, topic: t}\n"
        f"  - {{name: c, kind: consumer, topic: t, start: {start}}}\n"
        "phases: [{name: hold, kind: steady, duration: 10s}]\n")
    common = {"type": "end", "ts": T0 + 2, "instance": 0, "host": "localhost"}
    (run.raw / "native" / "p-0.jsonl").write_text(json.dumps({
        **common, "workload": "p", "role": "producer", "acked_ranges": {"a/0": [[0, 99]]}, "acked_offsets": {"a/0": [0, 99]}}) + "\n")
    (run.raw / "native" / "c-0.jsonl").write_text(json.dumps({
        **common, "workload": "c", "role": "consumer", "seen_ranges": {"a/0": [[30, 99]]},
        "start_offsets": {"0": 30}, "end_offsets": {"0": 100}}) + "\n")
    return run


def test_what_a_latest_consumer_could_not_see_is_excluded_and_said_so(tmp_path):
    collected = collect(_audit_run(tmp_path, "latest"))
    consumer = _workload(collected, "c")
    assert consumer.lost == 0
    assert [(e.reason, e.messages, e.partitions) for e in consumer.lost_excluded] == [("before_start", 30, [0])]
    assert any("c: 30 unseen messages not counted as lost (partitions 0)" in w for w in collected.warnings)


def test_an_earliest_consumer_that_began_after_the_first_messages_counts_them_lost(tmp_path):
    # gone before it started (retention, deleted records): lost to it, not "before its start"
    consumer = _workload(collect(_audit_run(tmp_path, "earliest")), "c")
    assert (consumer.lost, consumer.lost_excluded) == (30, [])
