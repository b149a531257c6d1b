"""Benchmark: the generated JMeter producer against Kafka's own ProducerPerformance, same client settings.

    PYTHONPATH=. .venv/bin/python bench/jmeter_vs_producer_perf.py [--duration 15] [--instances 4]
        [--records-100 N] [--records-1k N] [--repeat R] [--rates 20000 50000] [--json FILE]

In one run, against one local KRaft broker this script starts itself, for 100 B and 1 KiB records:

- JMeter: one ``apply`` of an ``engine: jmeter`` producer (JMeter 5.6.3 through real bzt), unthrottled
  for ``--duration`` seconds, ``--instances`` threads, the plan settings of bench/jmeter_vs_native.py
  (acks all, linger 5 ms, batch 64 KiB, no compression, idempotence off, no keys) on a fresh
  1-partition topic; msgs/s = acknowledged messages over the workload's measured duration, as the
  collector computes them from messages.jtl, with the publish latency percentiles of every message.
- Java: ``org.apache.kafka.tools.ProducerPerformance`` (what kafka-producer-perf-test runs, from the
  cached Kafka jars) with the same client settings (``acks=all linger.ms=5 batch.size=65536
  compression.type=none enable.idempotence=false``), unthrottled, on a fresh 1-partition topic.

Client CPU per message: ProducerPerformance's whole process (user + system, JVM start included) per
record; the JMeter JVM's CPU over the whole seconds of the phase per message sent in them (bzt and
JMeter's start-up left out, the per-message sub-samples and listener included).

The two tools run one after the other (JMeter first at 100 B, Java first at 1 KiB, swapped in every
other ``--repeat``), so neither takes the cores from the other. Then, for the rate limiter, the JMeter producer runs throttled at each of
``--rates`` (msgs/s over all threads, 100 B): achieved msgs/s and the publish delay (intended ▶
actual send) show whether it holds the open-model rate. Prints the machine and Markdown tables with
the JMeter ÷ Java ratios; ``--json`` also writes the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench.jmeter_vs_native import _plan
from bench.producer_perf import KAFKA_VERSION, machine, run_java
from orchestrator.collect import collect
from orchestrator.collect.timeline import SeriesKey
from orchestrator.errors import OrchestrateError
from orchestrator.execute.local_kafka import LocalKafka
from orchestrator.pipeline import apply
from orchestrator.progress import Progress
from orchestrator.rundir import RunDir

# the plan's producer defaults (_plan sets acks all), spelled out for ProducerPerformance
JAVA_PROPS = ["linger.ms=5", "batch.size=65536", "compression.type=none", "enable.idempotence=false"]


class JvmCpu(threading.Thread):
    """Samples, every 0.5 s, the CPU time (user + system) of the JMeter JVM whose command line names ``marker``."""

    def __init__(self, marker: str):
        super().__init__(daemon=True)
        self.marker, self.done = marker, threading.Event()
        self.samples: list[tuple[float, float]] = []  # (epoch s, CPU s)

    def run(self) -> None:
        proc = None
        while not self.done.wait(0.5):
            try:
                if proc is None:
                    proc = next((p for p in psutil.process_iter(["cmdline"]) if "ApacheJMeter.jar" in (c := " ".join(
                        p.info["cmdline"] or ())) and self.marker in c), None)
                    continue
                cpu = proc.cpu_times()
            except psutil.Error:
                proc = None
                continue
            self.samples.append((time.time(), cpu.user + cpu.system))

    def used(self, since: float, until: float) -> float:
        """CPU seconds between the samples nearest to ``since`` and ``until``."""
        def at(t: float) -> float:
            return min(self.samples, key=lambda s: abs(s[0] - t))[1]
        return at(until) - at(since)


def run_jmeter(bootstrap: str, size: int, rate: str, duration: int, instances: int, work: Path) -> dict[str, float]:
    """The producer's results; ``cpu_us_per_msg`` is the JMeter JVM's CPU during the phase per message sent in it."""
    run = RunDir(work / f"run-{len(list(work.glob('run-*')))}-jmeter-{size}-{rate.replace('/', '')}")  # a fresh one per run
    cpu = JvmCpu(str(run.root))
    cpu.start()
    try:
        apply(_plan(bootstrap, "jmeter", size, rate, duration, instances), work / "plan.yaml", run.root, False, Progress())
    except OrchestrateError as err:  # e.g. the report stage; the raw results are what we measure
        print(f"jmeter {size} B at {rate}: {err}", file=sys.stderr)
    finally:
        cpu.done.set()
        cpu.join()
    collected = collect(run)
    w = next(w for w in collected.workloads if w.name == "jmeter")
    start = float((run.jmeter_rendered("jmeter") / "start_at").read_text())
    rates = collected.timeline.series[SeriesKey("jmeter.rate", workload="jmeter")]
    first = int(start) + 1 - collected.timeline.start  # whole seconds inside the phase
    in_phase = rates[first:first + duration - 1]
    sent = sum(v or 0 for v in in_phase)
    latency, delay = w.latency_ms["publish_latency"], w.latency_ms["publish_delay"]
    return {"messages": w.messages, "errors": w.errors, "msgs_per_s": w.messages / w.duration_s,
            "p50_ms": latency.p50, "p99_ms": latency.p99, "delay_p99_ms": delay.p99,
            "corrected_p99_ms": w.latency_ms["corrected_latency"].p99,
            "cpu_us_per_msg": cpu.used(int(start) + 1, int(start) + len(in_phase) + 1) / sent * 1e6 if sent else float("nan")}


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--duration", type=int, default=15, help="seconds of the JMeter producer's unthrottled phase")
    args.add_argument("--instances", type=int, default=4, help="JMeter threads")
    args.add_argument("--records-100", type=int, default=1_000_000, help="ProducerPerformance records at 100 B")
    args.add_argument("--records-1k", type=int, default=500_000, help="ProducerPerformance records at 1 KiB")
    args.add_argument("--repeat", type=int, default=1, help="run both sizes this many times, the tools' order swapped")
    args.add_argument("--rates", type=int, nargs="*", default=[20_000, 50_000], help="throttled JMeter runs, msgs/s")
    args.add_argument("--json", type=Path)
    opts = args.parse_args()
    about = machine()
    pairs: list[tuple[str, dict[str, dict[str, float]]]] = []  # (record size, {tool: result}), in run order
    with tempfile.TemporaryDirectory(prefix="bench-jmeter-pp-") as tmp:
        work = Path(tmp)
        broker = LocalKafka(KAFKA_VERSION, work / "broker", heap=1024**3, properties={})
        bootstrap = broker.start().bootstrap_servers
        try:
            for repeat in range(opts.repeat):
                for i, (size, records) in enumerate(((100, opts.records_100), (1024, opts.records_1k))):
                    tools = {"jmeter": lambda: run_jmeter(bootstrap, size, "max", opts.duration, opts.instances, work),
                             "java": lambda: vars(run_java(bootstrap, size, "all", records, JAVA_PROPS))}
                    pair: dict[str, dict[str, float]] = {}
                    for name in (list(tools) if (i + repeat) % 2 == 0 else list(tools)[::-1]):
                        pair[name] = tools[name]()
                        print(f"  {size} B {name}: {pair[name]}", file=sys.stderr, flush=True)
                    pairs.append((f"{size} B", pair))
            throttled = {rate: run_jmeter(bootstrap, 100, f"{rate}/s", opts.duration, opts.instances, work) for rate in opts.rates}
        finally:
            broker.stop()
    print(f"Machine: {about}\n")
    print(f"JMeter: {opts.instances} threads, {opts.duration} s unthrottled; ProducerPerformance --producer-props "
          f"acks=all {' '.join(JAVA_PROPS)} --throughput -1\n")
    print("| record | tool | messages | msgs/s | p50 ms | p99 ms | client CPU µs/msg | JMeter ÷ Java msgs/s |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for cell, pair in pairs:
        ratio = pair["jmeter"]["msgs_per_s"] / pair["java"]["msgs_per_s"]
        for name, label in (("java", "ProducerPerformance"), ("jmeter", "JMeter (generated)")):
            r = pair[name]
            count = r.get("messages", r.get("records"))
            print(f"| {cell} | {label} | {count:,} | {r['msgs_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
                  f"| {r['cpu_us_per_msg']:.1f} | {f'**{ratio:.2f}**' if name == 'jmeter' else ''} |")
    if throttled:
        print("\n| offered msgs/s (100 B) | messages sent ÷ offered | msgs/s over the measured span | publish p99 ms "
              "| publish delay p99 ms | corrected p99 ms |\n| ---: | ---: | ---: | ---: | ---: | ---: |")
    for rate, r in throttled.items():
        print(f"| {rate:,} | {r['messages'] / (rate * opts.duration):.3f} | {r['msgs_per_s']:,.0f} | {r['p99_ms']:.1f} "
              f"| {r['delay_p99_ms']:.1f} | {r['corrected_p99_ms']:.1f} |")
    if opts.json:
        opts.json.write_text(json.dumps({"machine": about, "pairs": pairs, "throttled": throttled}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
