"""The brokers' JmxTool output and the hosts' samples ▶ timeline series."""

from pathlib import Path

import pytest

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.sampled import matches, read_host, read_jmx, read_jmx_blocks
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder

T0 = 1_795_596_800  # an epoch second
TOPICS = "kafka.server:type=BrokerTopicMetrics,name={}"
PRODUCE = "kafka.network:type=RequestMetrics,name=TotalTimeMs,request=Produce"
HANDLERS = "kafka.server:type=KafkaRequestHandlerPool,name=RequestHandlerAvgIdlePercent"
HEAP = ("javax.management.openmbean.CompositeDataSupport(compositeType=javax.management.openmbean.CompositeType("
        "name=java.lang.management.MemoryUsage,items=((itemName=committed,itemType=javax.management.openmbean."
        "SimpleType(name=java.lang.Long)))),contents={{committed=268435456, init=268435456, max=268435456, used={}}})")


def _block(seconds: int, bytes_in: float, produce_count: float, produce_mean: float, idle_ns: float,
           young_gc_ms: float, heap: int) -> str:
    lines = [("time", str((T0 + seconds) * 1000 + 7)),
             ("java.lang:type=GarbageCollector,name=G1 Old Generation:CollectionTime", "0"),
             ("java.lang:type=GarbageCollector,name=G1 Young Generation:CollectionTime", str(young_gc_ms)),
             ("java.lang:type=Memory:HeapMemoryUsage", HEAP.format(heap)),
             (f"{PRODUCE}:99thPercentile", "12.5"), (f"{PRODUCE}:Count", str(produce_count)),
             (f"{PRODUCE}:Mean", str(produce_mean)),
             ("kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent:Value", "0.75"),
             (f"{TOPICS.format('BytesInPerSec')}:Count", str(bytes_in)),
             (f"{HANDLERS}:Count", str(idle_ns))]
    return "".join(f"{k}\t{v}\n" for k, v in lines)


def _builder(tmp_path: Path, text: str, broker: str = "0") -> tuple[TimelineBuilder, list[str]]:
    path = tmp_path / f"{broker}.tsv"
    path.write_text(text)
    builder, diag = TimelineBuilder(), Diagnostics(tmp_path)
    read_jmx(path, builder, diag, interval=5)
    return builder, diag.lines()


def _at(builder: TimelineBuilder, metric: str, second: int, host: str = "0") -> float | None:
    series = builder.build(T0, T0 + 30).series.get(SeriesKey(metric, host=host))
    return None if series is None else series[second]


def test_counters_become_rates_and_histograms_interval_means_spread_over_the_interval(tmp_path):
    text = (_block(0, 1_000_000, 100, 2.0, 10e9, 300, 50_000_000)
            + _block(5, 11_000_000, 300, 3.0, 12.5e9, 350, 60_000_000))
    builder, warnings = _builder(tmp_path, text)
    assert warnings == []
    # 10 MB in 5 s; 200 requests; (300·3 − 100·2) / 200 ms; 2.5e9 idle ns in 5 s; 50 ms of GC in 5 s
    for second in range(1, 6):
        assert _at(builder, "broker.bytes_in_mb", second) == pytest.approx(2.0)
        assert _at(builder, "broker.produce_rate", second) == pytest.approx(40.0)
        assert _at(builder, "broker.produce_total_ms", second) == pytest.approx(3.5)
        assert _at(builder, "broker.request_handler_idle", second) == pytest.approx(50.0)
        assert _at(builder, "broker.gc_time", second) == pytest.approx(1.0)
    assert _at(builder, "broker.bytes_in_mb", 0) is None  # a rate needs a previous sample
    # gauges from the first sample on; the heap is a field of a composite value
    assert _at(builder, "broker.heap_used", 0) == 50_000_000
    assert _at(builder, "broker.heap_used", 5) == 60_000_000
    assert _at(builder, "broker.network_idle", 3) == pytest.approx(75.0)
    assert _at(builder, "broker.produce_total_p99_ms", 5) == 12.5


def test_a_counter_that_went_down_gives_no_value_and_a_long_gap_is_not_filled(tmp_path):
    text = (_block(0, 5_000_000, 100, 2.0, 10e9, 300, 1) + _block(5, 1_000, 5, 1.0, 1e9, 3, 1)  # broker restarted
            + _block(25, 2_001_000, 5, 1.0, 1e9, 3, 1))  # 20 s later: beyond 3 intervals
    builder, _ = _builder(tmp_path, text)
    assert all(_at(builder, "broker.bytes_in_mb", s) is None for s in range(0, 25))
    assert _at(builder, "broker.bytes_in_mb", 25) == pytest.approx(0.1)
    assert _at(builder, "broker.produce_total_ms", 25) is None  # no request in the interval


def test_a_block_cut_short_by_a_stop_is_skipped(tmp_path):
    whole = _block(0, 0, 0, 0, 0, 0, 1) + _block(5, 5_000_000, 0, 0, 0, 0, 1)
    cut = _block(10, 10_000_000, 0, 0, 0, 0, 1).splitlines(keepends=True)[:4]
    path = tmp_path / "2.tsv"
    path.write_text(whole + "".join(cut))
    diag = Diagnostics(tmp_path)
    blocks = list(read_jmx_blocks(path, diag))
    assert [b.ts for b in blocks] == [T0 + 0.007, T0 + 5.007]
    assert "incomplete JmxTool block" in diag.lines()[0]


def test_the_wildcard_mbean_sums_every_collector_and_exact_names_match_only_themselves():
    assert matches("java.lang:type=GarbageCollector,name=*", "java.lang:type=GarbageCollector,name=G1 Old Generation")
    assert not matches("java.lang:type=GarbageCollector,name=*", "java.lang:type=Memory")
    assert not matches(PRODUCE, PRODUCE.replace("Produce", "FetchConsumer"))
    assert not matches("kafka.server:type=ReplicaManager,name=LeaderCount",
                       "kafka.server:type=ReplicaManager,name=LeaderCount,extra=1")


def test_host_samples_become_cpu_memory_and_network_rates(tmp_path):
    path = tmp_path / "localhost.jsonl"
    path.write_text(f'{{"ts":{T0}.5,"cpu":10,"memory":40,"net_rx_bytes":1000000,"net_tx_bytes":0}}\n'
                    f'{{"ts":{T0 + 2}.5,"cpu":30,"memory":41,"net_rx_bytes":5000000,"net_tx_bytes":2000000}}\n'
                    '{"ts":17955968')  # cut short when the run stopped
    builder, diag = TimelineBuilder(), Diagnostics(tmp_path)
    read_host(path, builder, diag, interval=1)
    series = builder.build(T0, T0 + 3).series
    assert series[SeriesKey("host.cpu", host="localhost")] == [10.0, 30.0, 30.0, None]
    assert series[SeriesKey("host.net_rx_mb", host="localhost")] == [None, 2.0, 2.0, None]
    assert series[SeriesKey("host.net_tx_mb", host="localhost")] == [None, 1.0, 1.0, None]
    assert series[SeriesKey("host.memory", host="localhost")][2] == 41.0
    assert "malformed lines skipped" in diag.lines()[0]


def test_a_combined_node_shares_the_handler_meter_between_its_two_pools(tmp_path):
    markers = ("kafka.server:type=ReplicaManager,name=LeaderCount:Value\t2\n"
               "kafka.controller:type=ControllerStats,name=UncleanLeaderElectionsPerSec:Count\t0\n")
    # both pools idle 3/4 of the time: 1.5e9 idle ns a second marked on the one meter
    text = _block(0, 0, 0, 0, 0, 0, 1) + markers + _block(2, 0, 0, 0, 3e9, 0, 1) + markers
    builder, _ = _builder(tmp_path, text)
    assert _at(builder, "broker.request_handler_idle", 2) == pytest.approx(75.0)
    assert _at(builder, "broker.leader_count", 2) == 2
