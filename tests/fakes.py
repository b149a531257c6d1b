"""Synthetic measurements for report and analysis tests: a timeline, phases, workload summaries and histograms,
without running anything."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from orchestrator.collect.collector import latency_stats
from orchestrator.collect.histograms import SparseHistogram
from orchestrator.collect.jtl import JmeterLabel
from orchestrator.collect.kafka_admin import ClusterFacts
from orchestrator.collect.timeline import SeriesKey, Timeline
from orchestrator.runner.histogram import Histogram
from orchestrator.summary import Environment, Event, PhaseSpan, Throughput, WorkloadSummary

T0 = 1_700_000_000


@dataclass
class FakeMeasured:
    timeline: Timeline
    phases: list[PhaseSpan] = field(default_factory=list)
    workloads: list[WorkloadSummary] = field(default_factory=list)
    # (kind, workload) -> one histogram per second of the timeline, in Histogram.to_dict form
    per_second_hist: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    environment: Environment = field(default_factory=Environment)
    jmeter_labels: list[JmeterLabel] = field(default_factory=list)
    cluster: ClusterFacts = field(default_factory=ClusterFacts)

    def histogram(self, kind: str, workload: str | None, start: float, end: float) -> Histogram | None:
        merged = SparseHistogram()
        for (k, w), hists in self.per_second_hist.items():
            if k != kind or (workload is not None and w != workload):
                continue
            for i in range(max(0, int(start) - self.timeline.start), min(len(hists), int(end) - self.timeline.start)):
                merged.add_dict(hists[i])
        return merged.to_histogram() if merged.count else None


def histogram_of(values_ms: list[float]) -> dict:
    h = Histogram()
    for v in values_ms:
        h.record(int(v * 1000))
    return h.to_dict()


def make_measured(length: int, series: dict[str, list[float | None]]) -> FakeMeasured:
    """Series named ``metric@workload`` or ``metric`` (e.g. "produce.rate@w1")."""
    tl = Timeline(start=T0, length=length)
    for name, values in series.items():
        metric, _, workload = name.partition("@")
        assert len(values) == length
        tl.series[SeriesKey(metric, workload=workload or None)] = values
    # a finished run: apply wrote both ends (a run without run_end is a killed one)
    return FakeMeasured(timeline=tl, events=[Event(ts=T0, kind="run_start"), Event(ts=T0 + length, kind="run_end")])


@pytest.fixture
def measured_factory():
    return make_measured


PLAN_YAML = """
metadata:
  name: demo
  description: "Does a 3-broker cluster hold 5k msg/s of 1 KiB with p99 < 20 ms?"
  labels: {team: streaming, ticket: KAFKA-42}
target: {kind: existing, bootstrap_servers: ["127.0.0.1:9092", "127.0.0.1:9093", "127.0.0.1:9094"]}
topics:
  - {name: orders, partitions: 6, replication_factor: 3, retention: 3d}
workloads:
  - {name: producer, kind: producer, topic: orders, rate: 5k/s, message: {size: 1KiB}}
  - {name: consumer, kind: consumer, topic: orders}
phases:
  - {name: warm, kind: warmup, duration: 60s}
  - {name: hold, kind: steady, duration: 540s}
slos:
  - {name: p99-under-20ms, metric: publish_latency.p99, op: "<", threshold: 20ms}
  - {name: rate-5k, metric: produce.rate, op: ">=", threshold: 4.9k/s}
  - {name: no-loss, metric: consume.lost, op: "<=", threshold: 0}
  - {name: disk-busy, metric: disk.util, op: "<", threshold: 90%, sustained: 30s}
"""


def rich_measured(length: int = 600, seed: int = 7) -> FakeMeasured:
    """A plausible run (ten minutes by default): a 60 s warm-up then steady load, a broker fault
    halfway, two disks, lag, log-dir growth."""
    import random

    rnd = random.Random(seed)
    tl = Timeline(start=T0, length=length)
    fault = range(length // 2, length // 2 + max(5, length // 20))

    def put(metric: str, values: list[float | None], **where: str) -> None:
        tl.series[SeriesKey(metric, **where)] = values

    rate = [5000.0 + rnd.gauss(0, 60) if i not in fault else 2500.0 + rnd.gauss(0, 300) for i in range(length)]
    put("produce.rate", rate, workload="producer")
    put("produce.throughput_mb", [r * 1024 / 1e6 for r in rate], workload="producer")
    put("consume.rate", [r * (0.9 if i in fault else 1.0) for i, r in enumerate(rate)], workload="consumer")
    put("consume.throughput_mb", [r * 1024 / 1e6 for r in rate], workload="consumer")
    put("produce.errors", [rnd.choice([0, 0, 0, 3]) if i in fault else 0.0 for i in range(length)], workload="producer")
    put("consume.position_lag", [max(0.0, 40 + rnd.gauss(0, 10)) if i not in fault else 500.0 * (i - fault.start + 1) for i in range(length)],
        workload="consumer")
    hists: list[dict] = []
    for i in range(length):
        slow = 8.0 if i in fault else 1.0
        h = Histogram()
        for _ in range(200):
            h.record(int(rnd.lognormvariate(0.7, 0.5) * slow * 1000))
        hists.append(h.to_dict())
        for stat, q in (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9)):
            tl.series.setdefault(SeriesKey(f"publish_latency.{stat}", workload="producer"), [None] * length)[i] = h.percentile(q) / 1000
        tl.series.setdefault(SeriesKey("publish_latency.max", workload="producer"), [None] * length)[i] = h.max / 1000
    for device in ("nvme0n1", "sda"):
        put("disk.w_per_s", [300 + rnd.gauss(0, 20) for _ in range(length)], host="broker-1", device=device)
        put("disk.r_per_s", [5 + rnd.gauss(0, 1) for _ in range(length)], host="broker-1", device=device)
        put("disk.wkb_per_s", [5200 + rnd.gauss(0, 200) for _ in range(length)], host="broker-1", device=device)
        put("disk.rkb_per_s", [20 + rnd.gauss(0, 5) for _ in range(length)], host="broker-1", device=device)
        put("disk.await", [0.4 + rnd.random() * 0.2 for _ in range(length)], host="broker-1", device=device)
        put("disk.aqu_sz", [0.1 + rnd.random() * 0.05 for _ in range(length)], host="broker-1", device=device)
        put("disk.util", [35 + rnd.gauss(0, 3) for _ in range(length)], host="broker-1", device=device)
    put("broker.log_dir_bytes", [i * 5.1e6 if i % 5 == 0 else None for i in range(length)], host="broker-1")
    put("broker.log_dir_free_bytes", [200e9 - i * 5.1e6 if i % 5 == 0 else None for i in range(length)], host="broker-1")
    put("broker.under_replicated", [6.0 if i in fault else 0.0 for i in range(length)], host="broker-1")
    m = FakeMeasured(timeline=tl)
    m.per_second_hist[("publish_latency", "producer")] = hists
    m.per_second_hist[("e2e_latency", "consumer")] = [histogram_of([v * 1.5 for v in (2.0, 3.0, 5.0, 9.0)]) for _ in range(length)]
    m.phases = [PhaseSpan(name="warm", kind="warmup", start=T0, end=T0 + 60),
                PhaseSpan(name="hold", kind="steady", start=T0 + 60, end=T0 + length)]
    m.events = [Event(ts=T0, kind="run_start"), Event(ts=T0, kind="phase_start", name="warm"),
                Event(ts=T0 + fault.start, kind="fault_start", name="stop-broker-1", detail="broker_stop broker 1"),
                Event(ts=T0 + fault.stop, kind="fault_end", name="stop-broker-1"), Event(ts=T0 + length, kind="run_end")]
    total = int(sum(rate))
    speed = Throughput(msgs_per_s=total / length, mb_per_s=total * 1024 / 1e6 / length)
    m.workloads = [
        WorkloadSummary(name="producer", kind="producer", engine="native", messages=total, bytes=total * 1024,
                        errors=12, duration_s=length, throughput=speed,
                        latency_ms={"publish_latency": latency_stats(m.histogram("publish_latency", "producer", T0, T0 + length))}),
        WorkloadSummary(name="consumer", kind="consumer", engine="native", messages=total, bytes=total * 1024,
                        duration_s=length, throughput=speed, lost=0, duplicated=3, out_of_order=0, max_position_lag=15000,
                        latency_ms={"e2e_latency": latency_stats(m.histogram("e2e_latency", "consumer", T0, T0 + length))}),
    ]
    m.environment = Environment(kafka_version="4.1.1", brokers=["broker-1"], engines={"native": "0.1.0"})
    m.warnings = ["raw/iostat/broker-2.json: 3 malformed lines skipped (first at line 17)"]
    return m


@pytest.fixture
def plan():
    import yaml

    from orchestrator.plan.models import Plan

    return Plan.model_validate(yaml.safe_load(PLAN_YAML))
