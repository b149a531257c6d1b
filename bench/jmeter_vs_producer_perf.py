"""Benchmark: the generated JMeter producer against Kafka's own ProducerPerformance, same client settings.

    PYTHONPATH=. .venv/bin/python bench/jmeter_vs_producer_perf.py [--duration 15] [--instances 4]
        [--records-100 N] [--records-1k N] [--json FILE]

In one run, against one local KRaft broker this script starts itself, for 100 B and 1 KiB records:

- JMeter: one ``apply`` of an ``engine: jmeter`` producer (JMeter 5.6.3 through real bzt), unthrottled
  for ``--duration`` seconds, ``--instances`` threads, the plan settings of bench/jmeter_vs_native.py
  (acks all, linger 5 ms, batch 64 KiB, no compression, idempotence off, no keys) on a fresh
  1-partition topic; msgs/s = acknowledged messages over the workload's measured duration, as the
  collector computes them from messages.jtl, with the publish latency percentiles of every message.
- Java: ``org.apache.kafka.tools.ProducerPerformance`` (what kafka-producer-perf-test runs, from the
  cached Kafka jars) with the same client settings (``acks=all linger.ms=5 batch.size=65536
  compression.type=none enable.idempotence=false``), unthrottled, on a fresh 1-partition topic.

The two tools run one after the other (JMeter first at 100 B, Java first at 1 KiB), so neither takes
the cores from the other. Prints the machine, a Markdown table and the JMeter ÷ Java ratios;
``--json`` also writes the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench.jmeter_vs_native import _plan
from bench.producer_perf import KAFKA_VERSION, machine, run_java
from orchestrator.collect import collect
from orchestrator.errors import OrchestrateError
from orchestrator.execute.local_kafka import LocalKafka
from orchestrator.pipeline import apply
from orchestrator.progress import Progress
from orchestrator.rundir import RunDir

# the plan's producer defaults (_plan sets acks all), spelled out for ProducerPerformance
JAVA_PROPS = ["linger.ms=5", "batch.size=65536", "compression.type=none", "enable.idempotence=false"]


def run_jmeter(bootstrap: str, size: int, duration: int, instances: int, work: Path) -> dict[str, float]:
    run = work / f"run-jmeter-{size}"
    try:
        apply(_plan(bootstrap, "jmeter", size, "max", duration, instances), work / "plan.yaml", run, False, Progress())
    except OrchestrateError as err:  # e.g. the report stage; the raw results are what we measure
        print(f"jmeter {size} B: {err}", file=sys.stderr)
    w = next(w for w in collect(RunDir(run)).workloads if w.name == "jmeter")
    latency = w.latency_ms["publish_latency"]
    return {"messages": w.messages, "errors": w.errors, "msgs_per_s": w.messages / w.duration_s,
            "p50_ms": latency.p50, "p99_ms": latency.p99}


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--duration", type=int, default=15, help="seconds of the JMeter producer's unthrottled phase")
    args.add_argument("--instances", type=int, default=4, help="JMeter threads")
    args.add_argument("--records-100", type=int, default=1_000_000, help="ProducerPerformance records at 100 B")
    args.add_argument("--records-1k", type=int, default=500_000, help="ProducerPerformance records at 1 KiB")
    args.add_argument("--json", type=Path)
    opts = args.parse_args()
    about = machine()
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-jmeter-pp-") as tmp:
        work = Path(tmp)
        broker = LocalKafka(KAFKA_VERSION, work / "broker", heap=1024**3, properties={})
        bootstrap = broker.start().bootstrap_servers
        try:
            for i, (size, records) in enumerate(((100, opts.records_100), (1024, opts.records_1k))):
                tools = {"jmeter": lambda: run_jmeter(bootstrap, size, opts.duration, opts.instances, work),
                         "java": lambda: vars(run_java(bootstrap, size, "all", records, JAVA_PROPS))}
                for name in (list(tools) if i % 2 == 0 else list(tools)[::-1]):
                    results.setdefault(f"{size} B", {})[name] = tools[name]()
                    print(f"  {size} B {name}: {results[f'{size} B'][name]}", file=sys.stderr, flush=True)
        finally:
            broker.stop()
    print(f"Machine: {about}\n")
    print(f"JMeter: {opts.instances} threads, {opts.duration} s unthrottled; ProducerPerformance --producer-props "
          f"acks=all {' '.join(JAVA_PROPS)} --throughput -1\n")
    print("| record | tool | messages | msgs/s | p50 ms | p99 ms | JMeter ÷ Java msgs/s |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for cell, pair in results.items():
        ratio = pair["jmeter"]["msgs_per_s"] / pair["java"]["msgs_per_s"]
        for name, label in (("java", "ProducerPerformance"), ("jmeter", "JMeter (generated)")):
            r = pair[name]
            count = r.get("messages", r.get("records"))
            print(f"| {cell} | {label} | {count:,} | {r['msgs_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
                  f"| {f'**{ratio:.2f}**' if name == 'jmeter' else ''} |")
    if opts.json:
        opts.json.write_text(json.dumps({"machine": about, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
