"""Report generation for a 24-hour run: 86,400 one-second points × 30 series.

Synthesises what the collector hands the report (timeline, workload summaries, phases, events,
latency histograms) and times every output ``orchestrator.report.build.write_outputs`` writes:
summary.json, junit.xml, results/timeline.csv, results/omb.json and report/index.html. Collecting
raw files is not part of this measurement (see bench/jtl_ingest.py); histogram windows are
answered in O(buckets), so the time is the report's own.

    .venv/bin/python bench/report_24h.py [--seconds 86400] [--keep DIR]

Goal: under 10 s. Prints one line per stage and the size of the HTML page.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from orchestrator.analyze.slo import MemoHistograms
from orchestrator.analyze.window import judged_window
from orchestrator.collect.kafka_admin import ClusterFacts
from orchestrator.collect.timeline import SeriesKey, Timeline
from orchestrator.plan.models import Plan
from orchestrator.report.build import write_outputs
from orchestrator.report.html import render_report
from orchestrator.report.omb import omb_result
from orchestrator.report.timeline_csv import write_timeline_csv
from orchestrator.rundir import RunDir
from orchestrator.runner.histogram import Histogram
from orchestrator.summary import Environment, Event, PhaseSpan, Throughput, WorkloadSummary

T0 = 1_750_000_000
PLAN = """
metadata: {name: soak-24h, description: "24 hours at 5k msg/s with a broker restart", labels: {kind: soak}}
target: {kind: existing, bootstrap_servers: ["127.0.0.1:9092"]}
topics: [{name: events, partitions: 12, replication_factor: 1, retention: 7d}]
workloads:
  - {name: producer, kind: producer, topic: events, rate: 5k/s, message: {size: 1KiB}}
  - {name: consumer, kind: consumer, topic: events}
phases:
  - {name: warm, kind: warmup, duration: 10m}
  - {name: soak, kind: steady, duration: 23h50m}
slos:
  - {name: p99, metric: publish_latency.p99, op: "<", threshold: 20ms}
  - {name: p99-sustained, metric: publish_latency.p99, op: "<", threshold: 20ms, sustained: 60s}
  - {name: rate, metric: produce.rate, op: ">=", threshold: 4.9k/s}
  - {name: lag, metric: consume.position_lag, op: "<", threshold: 100k}
  - {name: disk, metric: disk.util, op: "<", threshold: 90%, sustained: 5m}
"""


@dataclass
class Synthetic:
    timeline: Timeline
    phases: list[PhaseSpan]
    workloads: list[WorkloadSummary]
    events: list[Event]
    environment: Environment = field(default_factory=Environment)
    warnings: list[str] = field(default_factory=list)
    jmeter_labels: list = field(default_factory=list)
    cluster: ClusterFacts = field(default_factory=ClusterFacts)
    base: dict[str, Histogram] = field(default_factory=dict)
    scaled: dict[tuple[str, int], Histogram] = field(default_factory=dict)

    def histogram(self, kind: str, workload: str | None, start: float, end: float) -> Histogram | None:
        """One second's distribution times the window's length, built once per length: the cost of
        merging stored histograms is the collector's, not the report's."""
        one = self.base.get(kind)
        if one is None:
            return None
        seconds = max(1, int(end - start))
        if (kind, seconds) not in self.scaled:
            h = Histogram(counts=[n * seconds for n in one.counts], count=one.count * seconds, total=one.total * seconds)
            h._min, h._max = one.min, one.max
            self.scaled[(kind, seconds)] = h
        return self.scaled[(kind, seconds)]


def synthesize(length: int, seed: int = 1) -> Synthetic:
    rng = np.random.default_rng(seed)
    tl = Timeline(start=T0, length=length)

    def put(metric: str, values: np.ndarray, **where: str) -> None:
        tl.series[SeriesKey(metric, **where)] = [None if np.isnan(v) else float(v) for v in values]

    t = np.arange(length)
    rate = 5000 + rng.normal(0, 50, length) - 2500 * ((t % 21600) < 60)
    rate[40000:40030] = np.nan  # a clock gap
    put("produce.rate", rate, workload="producer")
    put("produce.throughput_mb", rate * 1024 / 1e6, workload="producer")
    put("consume.rate", rate, workload="consumer")
    put("consume.throughput_mb", rate * 1024 / 1e6, workload="consumer")
    put("produce.errors", (rng.random(length) < 0.001).astype(float), workload="producer")
    put("consume.position_lag", np.abs(rng.normal(50, 20, length)), workload="consumer")
    for stat, scale in (("p50", 2.0), ("p90", 4.0), ("p99", 9.0), ("p999", 15.0), ("max", 30.0)):
        put(f"publish_latency.{stat}", scale * rng.lognormal(0, 0.2, length), workload="producer")
    for stat, scale in (("p50", 3.0), ("p99", 12.0), ("max", 40.0)):
        put(f"e2e_latency.{stat}", scale * rng.lognormal(0, 0.2, length), workload="consumer")
    for device in ("nvme0n1", "nvme1n1"):
        for metric, mean in (("disk.r_per_s", 5), ("disk.w_per_s", 300), ("disk.rkb_per_s", 40), ("disk.wkb_per_s", 5200),
                             ("disk.await", 0.5), ("disk.aqu_sz", 0.1), ("disk.util", 35)):
            put(metric, np.abs(rng.normal(mean, mean * 0.1, length)), host="broker-1", device=device)
    put("broker.log_dir_bytes", np.where(t % 5 == 0, np.minimum(t, 20000) * 5.1e6, np.nan), host="1")
    put("broker.under_replicated", ((t % 21600) < 60).astype(float))
    assert len(tl.series) == 30, len(tl.series)
    base = {}
    for kind, mu in (("publish_latency", 0.7), ("publish_delay", -1.0), ("corrected_latency", 0.8), ("e2e_latency", 1.1)):
        h = Histogram()
        for v in rng.lognormal(mu, 0.6, 5000):
            h.record(int(v * 1000))
        base[kind] = h
    phases = [PhaseSpan(name="warm", kind="warmup", start=T0, end=T0 + 600),
              PhaseSpan(name="soak", kind="steady", start=T0 + 600, end=T0 + length)]
    events = [Event(ts=T0, kind="run_start"), Event(ts=T0 + 43200, kind="fault_start", name="restart-broker-1"),
              Event(ts=T0 + 43260, kind="fault_end", name="restart-broker-1"), Event(ts=T0 + length, kind="run_end")]
    total = int(np.nansum(rate))
    speed = Throughput(msgs_per_s=total / length, mb_per_s=total * 1024 / 1e6 / length)
    workloads = [WorkloadSummary(name="producer", kind="producer", engine="native", messages=total, bytes=total * 1024,
                                 duration_s=length, throughput=speed),
                 WorkloadSummary(name="consumer", kind="consumer", engine="native", messages=total, bytes=total * 1024,
                                 duration_s=length, throughput=speed, lost=0, duplicated=0, out_of_order=0)]
    return Synthetic(tl, phases, workloads, events, Environment(kafka_version="4.1.1", brokers=["1"]), base=base)


def _cpu() -> tuple[float, float]:
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, workers.ru_utime + workers.ru_stime


def _timed(label: str, fn) -> float:
    """Wall time, and CPU time of this process and of the chart workers: on a busy machine the
    wall time says little, the CPU time still says what the work costs."""
    started, (own, workers) = time.perf_counter(), _cpu()
    fn()
    elapsed = time.perf_counter() - started
    own_after, workers_after = _cpu()
    print(f"{label:<34} {elapsed:7.2f} s wall {own_after - own:7.2f} s cpu {workers_after - workers:7.2f} s cpu in chart workers")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=86_400)
    parser.add_argument("--keep", type=Path, help="write the run directory here instead of a temporary one")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    data = synthesize(args.seconds)
    print(f"{'synthesize (not part of the goal)':<34} {time.perf_counter() - started:7.2f} s")
    plan = Plan.model_validate(yaml.safe_load(PLAN))
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir.create(plan.metadata.name, explicit=args.keep or Path(tmp))
        total = _timed("write_outputs (all outputs)", lambda: write_outputs(run, plan, data))
        window = judged_window(data.phases, data.timeline)
        _timed("  of which timeline.csv", lambda: write_timeline_csv(data.timeline, run.timeline_csv))
        _timed("  of which omb.json", lambda: omb_result(plan, MemoHistograms(data), window))
        summary = __import__("orchestrator.summary", fromlist=["Summary"]).Summary.model_validate_json(run.summary.read_text())
        _timed("  of which index.html", lambda: render_report(plan, summary, MemoHistograms(data), window, []))
        size = run.report_html.stat().st_size
    print(f"{'index.html size':<34} {size / 1e6:7.2f} MB")
    print(f"goal < 10 s: {'met' if total < 10 else 'NOT met'} ({total:.2f} s)")


if __name__ == "__main__":
    main()
